"""`appliance doctor`: check sound card, models, CPU, GPIO and the service; say how to fix each."""

from __future__ import annotations

import argparse

from appliance.commands import config_from


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "doctor", help="check that this machine can run the kiosk and say how to fix what cannot")
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    from appliance.runtime import doctor

    findings = doctor.run_checks(config_from(args))
    for finding in findings:
        print(f"{finding.check:8} {finding.level:5} {finding.message}")
        if finding.fix and finding.level != doctor.OK:
            print(f"{'':14} fix: {finding.fix}")
    if doctor.cannot_run(findings):
        print("the kiosk cannot run here until the FAIL lines are fixed")
        return 1
    return 0
