"""`appliance config check [PATH]`: validate a config file and print the result."""

from __future__ import annotations

import argparse

from appliance.config import default_config_path, load_config, render_config


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("config", help="validate and show the configuration")
    actions = parser.add_subparsers(dest="action", metavar="ACTION", required=True)
    check = actions.add_parser("check", help="validate PATH and print the effective configuration")
    check.add_argument("path", nargs="?", help="config file (default: --config or the device file)")
    check.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    path = args.path or args.config or default_config_path()
    config = load_config(path)
    print(f"# effective configuration from {path or 'built-in defaults'}")
    print(render_config(config), end="")
    return 0
