"""How far Moonshine's derived word times are from the truth, on piper speech.

Not a test (it asserts nothing): run it for the figures in docs/speech.md.
  .venv/bin/python tests/speech/measure_word_times.py

Piper says where each word lies (its phoneme alignments, `SpeechChunk.words`);
the corpus's piper phrases are spoken with 0.25 s of silence around them and
transcribed as `appliance transcribe` would. Where the recognised words match
the text one for one, every word's start and end error is collected.
"""

from __future__ import annotations

import dataclasses
import statistics

import numpy as np

from appliance.audiofile import resample
from appliance.commands.transcribe import transcribe
from appliance.config import Config
from appliance.evaluation.asr import CORPUS
from appliance.speech.factory import open_recognizer
from appliance.speech.tts import Synthesizer
from appliance.speech.wer import normalise

PAD_S = 0.25


def main() -> None:
    import tomllib

    config = Config()
    phrases = [p["text"] for p in tomllib.loads(CORPUS.read_text())["phrase"]]
    tts = dataclasses.replace(config.tts, noise_scale=0.0, noise_w_scale=0.0)
    errors: list[float] = []
    compared = 0
    with Synthesizer(tts, config.models_dir()) as voice, \
            open_recognizer(dataclasses.replace(config.asr, backend="moonshine"), config.models_dir()) as rec:
        for text in phrases:
            chunks = list(voice.synthesize(text))
            truth, offset = [], 0
            for chunk in chunks:
                rate = chunk.rate_hz
                truth += [(w.word, (offset + w.start_sample) / rate, (offset + w.end_sample) / rate)
                          for w in chunk.words]
                offset += len(chunk.samples)
            pad = np.zeros(int(PAD_S * 16000), dtype=np.int16)
            audio = np.concatenate([pad, *[resample(c.samples, c.rate_hz) for c in chunks], pad])
            rec.reset()
            heard = [w for u in transcribe(audio, rec) for w in u.words]
            if [normalise(w.word) for w in heard] != [normalise(t[0]) for t in truth]:
                continue
            compared += 1
            for word, (_, start_s, end_s) in zip(heard, truth, strict=True):
                errors += [abs(word.start_s - PAD_S - start_s), abs(word.end_s - PAD_S - end_s)]
    ordered = sorted(errors)
    print(f"{compared}/{len(phrases)} phrases recognised word for word; {len(errors)} word boundaries")
    print(f"boundary error: median {1000 * statistics.median(ordered):.0f} ms, "
          f"p90 {1000 * ordered[int(0.9 * len(ordered))]:.0f} ms, max {1000 * ordered[-1]:.0f} ms")


if __name__ == "__main__":
    main()
