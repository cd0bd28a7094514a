"""The `appliance` command: parses arguments and dispatches to a subcommand.

Each subcommand lives in `appliance/commands/<name>.py` with `register()`
(adds its parser) and `run(args) -> int`. Heavy libraries are imported inside
`run`, so `appliance --help` starts fast. A user-fixable problem
(`ApplianceError`) is printed as one line and never as a traceback.
"""

from __future__ import annotations

import argparse
import importlib
import logging
import os
import pkgutil
import signal
import sys

from appliance.errors import ApplianceError


def command_names() -> list[str]:
    """Every module in `appliance.commands`; adding a file adds a subcommand."""
    from appliance import commands

    return sorted(info.name for info in pkgutil.iter_modules(commands.__path__))


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="appliance",
        description="Offline voice kiosk that listens while it speaks and yields when interrupted.",
    )
    parser.add_argument("--config", metavar="PATH", help="TOML configuration "
                        "(default: $APPLIANCE_CONFIG, else /etc/appliance/appliance.toml if present)")
    parser.add_argument("-v", "--verbose", action="store_true", help="debug logging")
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for name in command_names():
        importlib.import_module(f"appliance.commands.{name}").register(subparsers)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    logging.basicConfig(
        level=logging.DEBUG if args.verbose else logging.INFO,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
        stream=sys.stderr,
    )
    try:
        code = int(args.handler(args) or 0)
        sys.stdout.flush()  # inside the try: a closed pipe shows up here, not at exit
        return code
    except ApplianceError as error:
        print(f"appliance: {error}", file=sys.stderr)
        return error.exit_code
    except BrokenPipeError:
        # The reader went away (`appliance config check | head`): not an error
        # of ours. Point stdout at /dev/null so the interpreter's final flush
        # cannot raise again on the way out.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 128 + signal.SIGPIPE
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
