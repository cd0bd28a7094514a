"""`appliance calibrate`: measure the echo path and the cut latency of the sound card.

What an installer runs on a real Pi (and what the tests run on a PulseAudio
loop): plays a noise probe, estimates the echo delay and gain, then cuts
playing noise and reports how long the capture took to fall by 40 dB.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
from pathlib import Path


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "calibrate", help="measure echo delay, echo gain and cut latency of the sound card")
    parser.add_argument("--capture", metavar="PCM", help="ALSA capture PCM (default: config)")
    parser.add_argument("--playback", metavar="PCM", help="ALSA playback PCM (default: config)")
    parser.add_argument("--backend", choices=("alsa", "sim"),
                        help="alsa = the card; sim = the simulated room (default: config)")
    parser.add_argument("--json", metavar="PATH", help="also write the figures as JSON")
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    from appliance.audio.calibrate import calibrate
    from appliance.audio.factory import open_device
    from appliance.commands import config_from
    from appliance.outputs import writable_output

    audio = config_from(args).audio
    if args.json:
        writable_output(args.json, "--json", (".json",))
    overrides = {key: value for key, value in (
        ("capture_device", args.capture), ("playback_device", args.playback),
        ("backend", args.backend)) if value is not None}
    audio = dataclasses.replace(audio, **overrides)
    with open_device(audio) as device:
        result = calibrate(device, audio, threaded=audio.backend == "alsa")
    figures = result.as_json()
    for key, value in figures.items():
        print(f"{key:16} {'unmeasured' if value is None else value}")
    if args.json:
        Path(args.json).write_text(json.dumps(figures, indent=2) + "\n")
    return 0
