"""`appliance bench SUITE_DIR --json REPORT.json [--plot PLOT.png] [--aec NAME]`: the barge-in benchmark."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from appliance.commands import config_from

# The names of appliance.listen.aec.engine.ENGINES, without importing numpy for --help.
ENGINE_NAMES = ("speex", "webrtc-aec3", "webrtc-legacy")


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("bench", help="run the barge-in benchmark on a scenario suite")
    parser.add_argument("suite", metavar="SUITE_DIR", help="directory of *.toml scenarios")
    parser.add_argument("--json", metavar="REPORT.json", required=True, help="report to write")
    parser.add_argument("--plot", metavar="PLOT.png", help="figure to write")
    parser.add_argument("--aec", metavar="NAME", choices=ENGINE_NAMES,
                        help="echo canceller behind the same VAD and detector: "
                        f"{', '.join(ENGINE_NAMES)} (default: the config's aec.engine, speex)")
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    from appliance.bench.suite import run_suite, with_engine
    from appliance.outputs import writable_output

    json_path = writable_output(args.json, "--json", (".json",))
    plot_path = writable_output(args.plot, "--plot", (".png", ".svg", ".pdf")) if args.plot else None
    config = with_engine(config_from(args), args.aec)
    report = run_suite(Path(args.suite), config, json_path, plot_path,
                       say=lambda line: print(line, file=sys.stderr)).report
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
