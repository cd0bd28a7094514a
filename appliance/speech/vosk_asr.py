"""The vosk (Kaldi) backend of `asr.Recognizer`: any vosk model directory from `models/`.

Vosk has its own endpointer: when `AcceptWaveform` returns True it has closed
a segment, whose words must be collected with `Result()` or they are lost.
Such segments are kept and joined into the utterance, whose end is decided by
`Recognizer.endpoint` like every backend. Vosk counts word times from the
recogniser's creation, across `Reset()` and results, so times are shifted by
the audio fed before the utterance began.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from appliance.config import AsrSettings
from appliance.errors import MissingDependencyError, ModelError
from appliance.messages import SAMPLE_RATE_HZ, RecognizedWord
from appliance.speech.asr import Recognizer

_models: dict[Path, object] = {}


def _vosk():
    try:
        import vosk
    except ImportError as error:
        raise MissingDependencyError(f"vosk: not installed ({error}); pip install vosk") from None
    vosk.SetLogLevel(-1)
    return vosk


def load_model(path: Path):
    """The vosk model in `path`, loaded once per process (large models take seconds)."""
    if path not in _models:
        try:
            _models[path] = _vosk().Model(str(path))
        except Exception as error:  # vosk raises a bare Exception for an unreadable model
            raise ModelError(f"{path}: not a loadable vosk model ({error})") from None
    return _models[path]


class VoskRecognizer(Recognizer):
    backend = "vosk"

    def __init__(self, model_path: Path, settings: AsrSettings) -> None:
        super().__init__(settings)
        self._decoder = _vosk().KaldiRecognizer(load_model(model_path), SAMPLE_RATE_HZ)
        self._decoder.SetWords(True)
        self._decoder.SetPartialWords(True)
        self._stream_samples = 0
        self._offset_s = 0.0
        self._segments: list[RecognizedWord] = []

    def _shifted(self, entries: list[dict]) -> list[RecognizedWord]:
        return [RecognizedWord(entry["word"], max(0.0, entry["start"] - self._offset_s),
                               max(0.0, entry["end"] - self._offset_s)) for entry in entries]

    def _feed(self, samples: np.ndarray) -> None:
        self._stream_samples += samples.size
        if self._decoder.AcceptWaveform(samples.tobytes()):
            self._segments += self._shifted(json.loads(self._decoder.Result()).get("result", []))

    def _partial_words(self) -> list[RecognizedWord]:
        partial = json.loads(self._decoder.PartialResult()).get("partial_result", [])
        return self._segments + self._shifted(partial)

    def _final_words(self) -> list[RecognizedWord]:
        words = self._segments + self._shifted(json.loads(self._decoder.FinalResult()).get("result", []))
        self._next_utterance()
        return words

    def _restart(self) -> None:
        self._decoder.Reset()
        self._next_utterance()

    def _next_utterance(self) -> None:
        self._segments = []
        self._offset_s = self._stream_samples / SAMPLE_RATE_HZ

    def _release(self) -> None:
        self._decoder = None
