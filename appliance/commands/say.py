"""`appliance say TEXT [--out FILE.wav]`: speak text with the kiosk's voice, or write it to a WAV."""

from __future__ import annotations

import argparse
import sys

from appliance.commands import config_from


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("say", help="synthesise TEXT with the configured piper voice")
    parser.add_argument("text", metavar="TEXT")
    parser.add_argument("--out", metavar="FILE.wav", help="write a WAV instead of playing it")
    parser.add_argument("--words", action="store_true", help="print each word's start and end, seconds")
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    import numpy as np

    from appliance.audiofile import write_wav
    from appliance.speech.tts import Synthesizer

    config = config_from(args)
    if args.out is None:
        _play_unavailable()
    with Synthesizer(config.tts, config.models_dir()) as synthesizer:
        chunks = list(synthesizer.synthesize(args.text))
    if not chunks:
        print(f"appliance: say: {args.text!r} has no words to speak", file=sys.stderr)
        return 1
    rate_hz = chunks[0].rate_hz
    write_wav(args.out, np.concatenate([chunk.samples for chunk in chunks]), rate_hz)
    if args.words:
        _print_words(chunks, rate_hz)
    return 0


def _print_words(chunks, rate_hz: int) -> None:
    offset = 0
    for chunk in chunks:
        for word in chunk.words:
            start_s, end_s = (offset + word.start_sample) / rate_hz, (offset + word.end_sample) / rate_hz
            print(f"{start_s:7.3f} {end_s:7.3f} {word.word}")
        offset += len(chunk.samples)


def _play_unavailable() -> None:
    from appliance.errors import ApplianceError

    raise ApplianceError("say: playback needs the audio engine (appliance.audio Speaker), "
                         "which is not in this build yet; use --out FILE.wav")
