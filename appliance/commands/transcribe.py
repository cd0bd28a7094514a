"""`appliance transcribe FILE.wav [--json]`: the configured recogniser on a recording.

The file is streamed through the recogniser as the kiosk would hear it (80 ms
at a time, endpointing on), so a file with several utterances gives several;
the JSON output has every word with its time from the start of the file.
"""

from __future__ import annotations

import argparse
import json

from appliance.commands import config_from

FEED_SAMPLES = 1280


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("transcribe", help="recognise the speech in a WAV file")
    parser.add_argument("file", metavar="FILE.wav")
    parser.add_argument("--json", action="store_true", help="words with start and end times, seconds")
    parser.set_defaults(handler=run)


def transcribe(samples, recognizer) -> list:
    """Every final Transcript in `samples`, word times shifted to the start of the audio."""
    from dataclasses import replace

    utterances, utterance_start = [], 0
    for start in range(0, len(samples), FEED_SAMPLES):
        recognizer.accept(samples[start:start + FEED_SAMPLES])
        if recognizer.endpoint or start + FEED_SAMPLES >= len(samples):
            transcript = recognizer.final()
            offset_s = utterance_start / 16000
            words = tuple(replace(w, start_s=w.start_s + offset_s, end_s=w.end_s + offset_s)
                          for w in transcript.words)
            if words:
                utterances.append(replace(transcript, words=words))
            utterance_start = start + FEED_SAMPLES
    return utterances


def run(args: argparse.Namespace) -> int:
    from appliance.audiofile import read_wav
    from appliance.speech.factory import open_recognizer

    config = config_from(args)
    samples = read_wav(args.file)
    with open_recognizer(config.asr, config.models_dir()) as recognizer:
        utterances = transcribe(samples, recognizer)
        backend = recognizer.backend
    text = " ".join(u.text for u in utterances)
    if args.json:
        words = [{"word": w.word, "start_s": round(w.start_s, 3), "end_s": round(w.end_s, 3)}
                 for u in utterances for w in u.words]
        print(json.dumps({"file": args.file, "backend": backend, "text": text, "words": words},
                         ensure_ascii=False, indent=2))
    else:
        print(text)
    return 0
