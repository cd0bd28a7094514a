"""`appliance say TEXT [--out FILE.wav]`: speak text with the kiosk's voice, or write it to a WAV."""

from __future__ import annotations

import argparse
import sys
import threading

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
    from appliance.outputs import writable_output
    from appliance.speech.markup import strip_markup
    from appliance.speech.tts import Synthesizer

    config = config_from(args)
    if args.out is not None:
        writable_output(args.out, "--out", (".wav",))
    text, tags = strip_markup(args.text)
    if tags:
        print(f"appliance: say: piper reads plain text; tags not spoken: "
              f"{', '.join(f'<{tag}>' for tag in tags)}", file=sys.stderr)
    with Synthesizer(config.tts, config.models_dir()) as synthesizer:
        chunks = list(synthesizer.synthesize(text))
    if not chunks:
        print(f"appliance: say: {args.text!r} has no words to speak", file=sys.stderr)
        return 1
    rate_hz = chunks[0].rate_hz
    if args.out is None:
        _play(config, chunks)
    else:
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


class _UntilQuiet:
    """A duplex-loop sink that ignores the microphone and notices when the speaker is done."""

    def __init__(self, speaker) -> None:
        self._speaker = speaker
        self.armed = threading.Event()
        self.done = threading.Event()

    def on_period(self, mic, played, t, delay_samples, realign) -> None:
        if self.armed.is_set() and not self._speaker.is_speaking:
            self.done.set()


def _play(config, chunks) -> None:
    """Through the configured speaker, with the same speaker queue and loop as the kiosk;
    the microphone is not opened (a kiosk without one can still speak)."""
    from appliance.audio.factory import open_device
    from appliance.audio.loop import DuplexLoop
    from appliance.audio.speaker import Speaker

    with open_device(config.audio, capture=False) as device:
        speaker = Speaker(device, config.audio)
        sink = _UntilQuiet(speaker)
        with DuplexLoop(device, speaker, sink, config.audio.realtime_priority) as loop:
            for chunk in chunks:
                speaker.enqueue(chunk)
            sink.armed.set()
            seconds = sum(len(chunk.samples) / chunk.rate_hz for chunk in chunks)
            finished = sink.done.wait(timeout=seconds + 5.0)
            if loop.error is not None:
                raise loop.error
            if not finished:
                raise TimeoutError("the speaker never drained")
