"""`appliance wake FILE.wav`: run the wake word detector over a recording.

Prints one line per detection: the time (seconds from the start of the file,
when the detection fired), the model name and its score. Exit status 1 when
nothing was detected, like grep.
"""

from __future__ import annotations

import argparse
import sys

from appliance.commands import config_from

TAIL_SILENCE_S = 1.0
"""Appended so a wake word at the very end of a file is still scored."""


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("wake", help="detect the wake word in a WAV file")
    parser.add_argument("file", metavar="FILE.wav")
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    import numpy as np

    from appliance.audiofile import read_wav
    from appliance.messages import SAMPLE_RATE_HZ
    from appliance.speech.wake import FRAME_SAMPLES, WakeWordDetector

    config = config_from(args)
    samples = np.concatenate([read_wav(args.file), np.zeros(int(TAIL_SILENCE_S * SAMPLE_RATE_HZ), np.int16)])
    detections = 0
    with WakeWordDetector(config.wake, config.models_dir()) as detector:
        for start in range(0, len(samples) - FRAME_SAMPLES + 1, FRAME_SAMPLES):
            event = detector.process(samples[start:start + FRAME_SAMPLES])
            if event is not None:
                detections += 1
                print(f"{event.t:7.2f} s  {event.model}  score {event.score:.2f}")
    if not detections:
        print(f"{args.file}: no {config.wake.model} detected", file=sys.stderr)
    return 0 if detections else 1
