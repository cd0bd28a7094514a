"""`appliance version`: the package version and the versions of the stack."""

from __future__ import annotations

import argparse
from importlib import metadata

STACK = ("pyalsaaudio", "speexdsp", "onnxruntime", "vosk", "pocketsphinx", "piper-tts",
         "llama-cpp-python", "gpiozero", "systemd-python", "numpy", "soxr", "soundfile")


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("version", help="print the version of the kiosk and its stack")
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    print(f"appliance {metadata.version('appliance')}")
    for name in STACK:
        try:
            print(f"  {name} {metadata.version(name)}")
        except metadata.PackageNotFoundError:
            print(f"  {name} (not installed)")
    return 0
