"""`appliance bench SUITE_DIR --json REPORT.json [--plot PLOT.png]`: the barge-in benchmark (BENCH.md)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from appliance.commands import config_from


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("bench", help="run the barge-in benchmark on a scenario suite")
    parser.add_argument("suite", metavar="SUITE_DIR", help="directory of *.toml scenarios")
    parser.add_argument("--json", metavar="REPORT.json", required=True, help="report to write")
    parser.add_argument("--plot", metavar="PLOT.png", help="figure to write")
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    from appliance.bench.suite import run_suite
    from appliance.outputs import writable_output

    json_path = writable_output(args.json, "--json", (".json",))
    plot_path = writable_output(args.plot, "--plot", (".png", ".svg", ".pdf")) if args.plot else None
    report = run_suite(Path(args.suite), config_from(args), json_path, plot_path,
                       say=lambda line: print(line, file=sys.stderr))
    print(_summary_line(report["summary"]))
    return 1 if report.get("errors") else 0


def _summary_line(summary: dict) -> str:
    interrupt = summary["interrupt"]
    return (f"interrupt {interrupt['stopped']}/{interrupt['n']} stopped, {interrupt['missed']} missed, "
            f"p50 duck {interrupt['p50_onset_to_duck_ms']} ms, p95 silence "
            f"{interrupt['p95_onset_to_silence_ms']} ms; backchannel "
            f"{summary['backchannel']['resumed']}/{summary['backchannel']['n']} resumed; "
            f"false stops {summary['false_stops']}; median ERLE {summary['median_erle_db']} dB; "
            f"frontend RTF {summary['frontend_rtf']}")
