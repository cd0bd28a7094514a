"""`appliance transcribe FILE.wav [--json]`: the configured recogniser on a recording.

The file is streamed through the recogniser as the kiosk would hear it (80 ms
at a time, endpointing on), so a file with several utterances gives several;
the JSON output has every word with its time from the start of the file.

Like the kiosk, the recogniser only hears what the VAD calls speech (with the
pre-roll before it and the endpoint silence after it): ten minutes of a quiet
room took 102 s to transcribe when all of it went through the recogniser.
"""

from __future__ import annotations

import argparse
import json

from appliance.commands import config_from

FEED_SAMPLES = 1280
QUIET_DBFS = -60.0
"""A VAD window quieter than this (RMS) is not speech and the VAD is not asked: a
recording of digital silence then costs nothing."""


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("transcribe", help="recognise the speech in a WAV file")
    parser.add_argument("file", metavar="FILE.wav")
    parser.add_argument("--json", action="store_true", help="words with start and end times, seconds")
    parser.set_defaults(handler=run)


def speech_spans(samples, vad, threshold: float, before_ms: float,
                 after_ms: float) -> list[tuple[int, int]]:
    """Sample ranges around what `vad` calls speech, widened by `before_ms` / `after_ms`
    and merged where they touch; empty for a file without speech."""
    import numpy as np

    from appliance.listen.vad import WINDOW_SAMPLES
    from appliance.messages import samples_for_ms

    vad.reset()
    before, after = samples_for_ms(before_ms), samples_for_ms(after_ms)
    samples = np.asarray(samples)
    padded = np.zeros(-(-len(samples) // WINDOW_SAMPLES) * WINDOW_SAMPLES, dtype=np.float64)
    padded[:len(samples)] = samples
    mean_square = np.mean((padded.reshape(-1, WINDOW_SAMPLES) / 32768.0) ** 2, axis=1)
    loud = mean_square >= 10 ** (QUIET_DBFS / 10)
    spans: list[tuple[int, int]] = []
    for start in range(0, len(samples), WINDOW_SAMPLES):
        window = samples[start:start + WINDOW_SAMPLES]
        if not loud[start // WINDOW_SAMPLES] or vad.accept(window) < threshold:
            continue
        span = (max(0, start - before), min(len(samples), start + window.size + after))
        if spans and span[0] <= spans[-1][1]:
            spans[-1] = (spans[-1][0], span[1])
        else:
            spans.append(span)
    return spans


def transcribe(samples, recognizer, spans: list[tuple[int, int]] | None = None) -> list:
    """Every final Transcript in `samples` (only within `spans` when given), word times
    from the start of the audio."""
    from dataclasses import replace

    utterances = []
    for span_start, span_end in spans if spans is not None else [(0, len(samples))]:
        utterance_start = span_start
        for start in range(span_start, span_end, FEED_SAMPLES):
            end = min(start + FEED_SAMPLES, span_end)
            recognizer.accept(samples[start:end])
            if recognizer.endpoint or end >= span_end:
                transcript = recognizer.final()
                offset_s = utterance_start / 16000
                words = tuple(replace(w, start_s=w.start_s + offset_s, end_s=w.end_s + offset_s)
                              for w in transcript.words)
                if words:
                    utterances.append(replace(transcript, words=words))
                utterance_start = end
    return utterances


def run(args: argparse.Namespace) -> int:
    from appliance.audiofile import read_wav
    from appliance.listen.vad import MODEL_FILE, SileroVad
    from appliance.models import require
    from appliance.speech.factory import open_recognizer

    config = config_from(args)
    samples = read_wav(args.file)
    with SileroVad(require(MODEL_FILE, config.models_dir())) as vad:
        spans = speech_spans(samples, vad, config.detector.vad_threshold, config.asr.preroll_ms,
                             config.asr.endpoint_silence_ms)
    with open_recognizer(config.asr, config.models_dir()) as recognizer:
        utterances = transcribe(samples, recognizer, spans)
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
