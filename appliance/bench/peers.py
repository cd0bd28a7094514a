"""Speex and WebRTC's cancellers side by side: every engine on every suite, in one run.

    python -m appliance.bench.peers [--config PATH] [--aec NAME,...] --out DIR SUITE_DIR...

Each engine runs behind the same VAD, detector and resume policy
(`appliance bench --aec NAME` per suite), in one process and one sitting,
so the figures share the machine's state. Per engine and suite the bench
report goes to `DIR/ENGINE-SUITE.json`; the comparison (misses, false stops,
latencies, ERLE, CPU per period) to `DIR/comparison.json` and, as a
Markdown table, `DIR/comparison.md` and stdout. Every engine is checked
before the first scenario runs: a peer that is not installed is one line
naming the install step, exit 2.

ERLE is measured on each canceller's output before the kiosk's own
suppression; WebRTC's cancellers only expose an output that is already
residual-suppressed, so their ERLE includes suppression and is not the same
quantity as speex's linear figure (see `appliance.listen.aec.engine`).
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
from pathlib import Path

from appliance.config import Config, default_config_path, load_config
from appliance.errors import ApplianceError

ENGINES = ("speex", "webrtc-aec3", "webrtc-legacy")
CANCELLER_STAGES = ("aec", "suppress")
COLUMNS = ("engine", "suite", "stopped", "missed", "false stops", "duck p50 ms",
           "silence p50 / p95 ms", "backchannels resumed", "median ERLE dB",
           "canceller CPU ms / period", "front-end CPU ms / period")


def comparison_row(engine: str, suite: str, report: dict, cpu_ms: dict[str, float]) -> dict:
    """One engine on one suite: the figures the comparison is about."""
    summary = report["summary"]
    interrupt, backchannel = summary["interrupt"], summary["backchannel"]
    return {
        "engine": engine, "suite": suite,
        "interrupts": interrupt["n"], "stopped": interrupt["stopped"], "missed": interrupt["missed"],
        "false_stops": summary["false_stops"],
        "p50_onset_to_duck_ms": interrupt["p50_onset_to_duck_ms"],
        "p50_onset_to_silence_ms": interrupt["p50_onset_to_silence_ms"],
        "p95_onset_to_silence_ms": interrupt["p95_onset_to_silence_ms"],
        "backchannels": backchannel["n"], "backchannels_resumed": backchannel["resumed"],
        "median_erle_db": summary["median_erle_db"],
        "canceller_cpu_ms_per_period": round(sum(cpu_ms.get(s, 0.0) for s in CANCELLER_STAGES), 3),
        "frontend_cpu_ms_per_period": round(sum(cpu_ms.values()), 3),
        "frontend_rtf": summary["frontend_rtf"],
    }


def markdown(rows: list[dict]) -> str:
    lines = ["| " + " | ".join(COLUMNS) + " |", "|" + "---|" * len(COLUMNS)]
    for row in rows:
        cells = (row["engine"], row["suite"], f"{row['stopped']}/{row['interrupts']}", row["missed"],
                 row["false_stops"], row["p50_onset_to_duck_ms"],
                 f"{row['p50_onset_to_silence_ms']} / {row['p95_onset_to_silence_ms']}",
                 f"{row['backchannels_resumed']}/{row['backchannels']}", row["median_erle_db"],
                 row["canceller_cpu_ms_per_period"], row["frontend_cpu_ms_per_period"])
        lines.append("| " + " | ".join(str(cell) for cell in cells) + " |")
    return "\n".join(lines) + "\n"


def compare(config: Config, engines: list[str], suites: list[Path], out_dir: Path) -> list[dict]:
    from appliance.bench.suite import run_suite, with_engine

    configs = {engine: with_engine(config, engine) for engine in engines}  # fail before running any
    rows = []
    for engine in engines:
        for suite in suites:
            print(f"bench-peers: {engine} on {suite}", file=sys.stderr)
            run = run_suite(suite, configs[engine], out_dir / f"{engine}-{suite.name}.json", None,
                            say=lambda line: print(line, file=sys.stderr))
            rows.append(comparison_row(engine, suite.name, run.report, run.cpu_ms_per_period))
    return rows


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m appliance.bench.peers",
                                     description=__doc__.split("\n")[0])
    parser.add_argument("suites", nargs="+", metavar="SUITE_DIR", type=Path)
    parser.add_argument("--out", metavar="DIR", type=Path, required=True)
    parser.add_argument("--aec", default=",".join(ENGINES),
                        help=f"comma-separated engines [{','.join(ENGINES)}]")
    parser.add_argument("--config", metavar="PATH")
    args = parser.parse_args(argv)
    engines = [name.strip() for name in args.aec.split(",") if name.strip()]
    unknown = [name for name in engines if name not in ENGINES]
    if unknown or not engines:
        parser.error(f"--aec: expected names among {', '.join(ENGINES)}, got {args.aec!r}")
    for suite in args.suites:
        if not suite.is_dir():
            parser.error(f"{suite}: not a directory of scenarios")
    logging.basicConfig(level=logging.WARNING, stream=sys.stderr)
    try:
        config = load_config(args.config or default_config_path())
        rows = compare(config, engines, args.suites, args.out)
    except ApplianceError as error:
        print(f"bench-peers: {error}", file=sys.stderr)
        return error.exit_code
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "comparison.json").write_text(json.dumps(rows, indent=2) + "\n")
    table = markdown(rows)
    (args.out / "comparison.md").write_text(table)
    print(table, end="")
    return 0


if __name__ == "__main__":
    sys.exit(main())
