"""One module per `appliance` subcommand; see `appliance.cli`."""

from __future__ import annotations

import argparse

from appliance.config import Config, default_config_path, load_config


def config_from(args: argparse.Namespace) -> Config:
    """The validated configuration named on the command line, or the default one."""
    return load_config(args.config or default_config_path())
