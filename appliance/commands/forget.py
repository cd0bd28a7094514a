"""`appliance forget`: erase what the kiosk kept about its guests (docs/privacy.md)."""

from __future__ import annotations

import argparse
from pathlib import Path

from appliance.commands import config_from


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "forget", help="delete the events files; with --journal also vacuum the journal")
    parser.add_argument("--events", type=Path,
                        help="events file to delete with its rotations (default: [service] events_path)")
    parser.add_argument("--journal", action="store_true",
                        help="also rotate and vacuum the journal: removes every archived journal "
                        "file on this machine, not only the kiosk's (root only)")
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    from appliance.runtime.privacy import forget

    config = config_from(args)
    for line in forget(args.events or config.events_path(), journal=args.journal):
        print(line)
    if not args.journal:
        print("journal: not touched (add --journal to vacuum it; see docs/privacy.md)")
    return 0
