"""How fast the kiosk takes its turn: `appliance sim` on the fast-turn scripts, repeated.

`make eval-turns` runs each script `--runs` times (3 by default: the machine is
shared and noisy, so medians of repeated runs are reported) and prints, per
script: re-plan and reply latency p50/p95 (pooled over the runs), the median
of each part of the breakdown, false endpoints per caller turn, and for the
twenty-question script the turn-20 / turn-1 reply latency (last over first,
and the median of the last three over the first three). The corrections
script is the tuning half; tests/runtime/held-back/corrections.toml was never
used to choose a setting and is reported beside it.
"""

from __future__ import annotations

import argparse
import io
import json
import statistics
import sys
import tempfile
from pathlib import Path
from typing import Any

from appliance.config import load_config
from appliance.runtime.latency import PARTS, percentile
from appliance.runtime.script import load_script
from appliance.runtime.sim import run_sim

SCRIPTS_DIR = Path(__file__).resolve().parents[1] / "runtime" / "scripts"
HELD_BACK = Path(__file__).resolve().parents[2] / "tests" / "runtime" / "held-back" / "corrections.toml"
SCRIPTS = {
    "corrections (tuning)": SCRIPTS_DIR / "corrections.toml",
    "corrections (held back)": HELD_BACK,
    "front desk (demo)": SCRIPTS_DIR / "front_desk.toml",
    "twenty turns": SCRIPTS_DIR / "twenty_turns.toml",
}


def evaluate(script: Path, runs: int, config_path: Path | None) -> dict[str, Any]:
    """The script's figures over `runs` runs of the sim."""
    summaries = []
    for _ in range(runs):
        with tempfile.TemporaryDirectory() as out:
            result = run_sim(load_config(config_path), load_script(script), Path(out),
                             console=io.StringIO())
            summaries.append(result.summary)
    replans = [ms for s in summaries for ms in s["replan_latency_ms"]]
    replies = [ms for s in summaries for ms in s["reply_latency_ms"]]
    turns = [turn for s in summaries for turn in s["turns"]]
    figures: dict[str, Any] = {
        "runs": runs,
        "replan_p50_ms": percentile(replans, 50), "replan_p95_ms": percentile(replans, 95),
        "reply_p50_ms": percentile(replies, 50), "reply_p95_ms": percentile(replies, 95),
        "replans": len(replans), "replies": len(replies),
        "false_endpoints": sum(s["false_endpoints"] for s in summaries),
        "caller_turns": sum(s["caller_turns"] for s in summaries),
        "speculative_share": _share([t["speculative"] for t in turns if t["speculative"] is not None]),
        "breakdown_p50_ms": {part: percentile([t[part] for t in turns], 50)
                             for part in PARTS},
        "run_reply_p50_ms": [percentile(s["reply_latency_ms"], 50) for s in summaries],
        "loop_period_ms": {when: {q: _median_of([s["loop_period_ms"][when][q] for s in summaries])
                                  for q in ("p50", "p99")}
                           for when in ("otherwise", "speculating")},
    }
    if script.name == "twenty_turns.toml" and len(summaries[0]["reply_latency_ms"]) >= 6:
        per_run = [s["reply_latency_ms"] for s in summaries]
        figures["turn_last_over_first"] = round(statistics.median(r[-1] / r[0] for r in per_run), 2)
        figures["last3_over_first3"] = round(statistics.median(
            statistics.median(r[-3:]) / statistics.median(r[:3]) for r in per_run), 2)
    return figures


def _median_of(values: list[float | None]) -> float | None:
    return percentile(values, 50, 3)


def _share(flags: list[bool]) -> float | None:
    return round(sum(flags) / len(flags), 2) if flags else None


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--config", type=Path, default=None)
    parser.add_argument("--only", choices=sorted(SCRIPTS), action="append")
    parser.add_argument("--json", type=Path, default=None)
    args = parser.parse_args(argv)
    report = {}
    for name, script in SCRIPTS.items():
        if args.only and name not in args.only:
            continue
        figures = report[name] = evaluate(script, args.runs, args.config)
        parts = ", ".join(f"{part.removesuffix('_ms')} {value}"
                          for part, value in figures["breakdown_p50_ms"].items())
        print(f"{name}: re-plan p50/p95 {figures['replan_p50_ms']}/{figures['replan_p95_ms']} ms "
              f"(n={figures['replans']}), reply p50/p95 {figures['reply_p50_ms']}/"
              f"{figures['reply_p95_ms']} ms (n={figures['replies']}), false endpoints "
              f"{figures['false_endpoints']}/{figures['caller_turns']}, speculative "
              f"{figures['speculative_share']}; p50 parts: {parts}"
              + f"; loop per 10 ms period p99 {figures['loop_period_ms']['otherwise']['p99']} ms, "
              f"while speculating {figures['loop_period_ms']['speculating']['p99']} ms"
              + (f"; turn 20/turn 1 {figures['turn_last_over_first']}, last 3/first 3 "
                 f"{figures['last3_over_first3']}" if "turn_last_over_first" in figures else ""),
              flush=True)
    if args.json is not None:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(report, indent=1) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
