"""`appliance sim`: the whole kiosk in the simulated room with a scripted caller."""

from __future__ import annotations

import argparse
import dataclasses
import logging
import statistics
from pathlib import Path
from typing import TYPE_CHECKING

from appliance.agent.vocabulary import AgentCut, BackchannelResume, Replan
from appliance.commands import config_from

if TYPE_CHECKING:
    from appliance.runtime.sim import SimResult


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "sim", help="run a scripted conversation in the simulated room (no sound card needed)")
    parser.add_argument("--script", type=Path, help="caller script TOML (default: the built-in "
                        "front-desk conversation)")
    parser.add_argument("--out", type=Path, default=Path("out/sim"),
                        help="directory for events.jsonl, conversation.wav, timeline.png, screen.png")
    parser.add_argument("--realtime", action="store_true",
                        help="pace the room to the wall clock instead of running as fast as possible")
    parser.add_argument("--screen", action="store_true",
                        help="serve the kiosk's screen ([screen] host:port) while the simulation runs "
                        "in real time (implies --realtime): open the printed address in a browser")
    parser.add_argument("--soak", type=float, metavar="HOURS",
                        help="a long varied conversation for HOURS of simulated time; reports "
                        "turns, barge-ins, errors, RSS, threads and fds over time (soak.json)")
    parser.set_defaults(handler=run)


def _ms(values: list[float]) -> str:
    if not values:
        return "none"
    each = ", ".join(f"{value:.0f}" for value in values)
    return f"median {statistics.median(values):.0f} ms over {len(values)} ({each})"


def run(args: argparse.Namespace) -> int:
    from appliance.runtime.script import load_script
    from appliance.runtime.sim import run_sim

    config = config_from(args)
    if args.screen:
        config = dataclasses.replace(config, screen=dataclasses.replace(config.screen, enabled=True))
    if args.soak is not None:
        return _soak(config, args)
    script = load_script(args.script)
    if not args.verbose:  # the timeline below shows the events; keep the log to warnings
        logging.getLogger().setLevel(logging.WARNING)
    print(f"appliance sim: {len(script.lines)} caller lines from {script.path}; loading models…")
    result = run_sim(config, script, args.out, realtime=args.realtime or args.screen)
    stops = [r for r in result.records if r["event"] == AgentCut.name]
    print()
    print(f"barge-ins: {len(stops)}; replies re-planned: "
          f"{sum(r['event'] == Replan.name for r in result.records)}; "
          f"backchannels resumed: {sum(r['event'] == BackchannelResume.name for r in result.records)}")
    print(f"re-plan latency (caller's last word to agent's first sample): {_ms(result.replan_latencies_ms)}")
    print(f"reply latency (any caller turn to agent's first sample): {_ms(result.answer_latencies_ms)}")
    if result.skipped_lines:
        print(f"{result.skipped_lines} script line(s) never triggered (see the timeline)")
    if result.screen_cpu_s is not None:
        seconds = result.records[-1]["t"] if result.records else 0.0
        print(f"screen server CPU: {result.screen_cpu_s * 1e3:.0f} ms over {seconds:.0f} s of conversation")
    for name in ("events.jsonl", "conversation.wav", "timeline.png"):
        print(f"wrote {result.out_dir / name}")
    _write_screenshot(result)
    return 0


def _write_screenshot(result: SimResult) -> None:
    """screen.png: the page right after the first cut; a missing browser costs only this file."""
    from appliance.errors import ApplianceError
    from appliance.runtime.screen.snapshot import screenshot

    if result.first_cut_view is None:
        print("no screen.png: nobody cut the agent off")
        return
    try:
        print(f"wrote {screenshot(result.first_cut_view, result.out_dir / 'screen.png')}")
    except ApplianceError as error:
        print(f"no screen.png: {error}")
def _soak(config, args: argparse.Namespace) -> int:
    from appliance.errors import ConfigError
    from appliance.outputs import writable_directory
    from appliance.runtime.script import load_script
    from appliance.runtime.soak import SOAK_SCRIPT, run_soak, summary

    if not 0 < args.soak <= 72:
        raise ConfigError("--soak", "HOURS", f"a number of hours above 0 and at most 72, got {args.soak}")
    writable_directory(args.out, "--out")
    script = load_script(args.script or SOAK_SCRIPT)
    logging.getLogger().setLevel(logging.WARNING)
    samples = run_soak(config, args.soak, args.out, script=script,
                       sample_every_s=min(300.0, args.soak * 3600.0 / 12))
    print(summary(samples))
    print(f"wrote {args.out / 'soak.json'} and {args.out / 'events.jsonl'}")
    return 1 if samples[-1].errors or samples[-1].lost_turns else 0
