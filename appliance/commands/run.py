"""`appliance run`: the kiosk on the configured sound card (the systemd service runs this)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from appliance.commands import config_from


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("run", help="run the kiosk on the configured ALSA devices")
    parser.add_argument("--events", type=Path,
                        help="JSON-lines event log, appended to (default: [service] events_path)")
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    from appliance.device.journal import running_under_systemd, setup_logging
    from appliance.runtime.service import run_service
    from appliance.runtime.timeline import ConsoleTimeline

    config = config_from(args)
    setup_logging(config.service.log_level)
    events_path = args.events or config.events_path()
    timeline = None if running_under_systemd() else ConsoleTimeline(sys.stdout)
    return run_service(config, events_path, timeline)
