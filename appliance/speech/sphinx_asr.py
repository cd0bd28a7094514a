"""The pocketsphinx backend of `asr.Recognizer`: its bundled US English model.

Needs no download, so it is what the kiosk falls back on when no vosk model
is installed. Accuracy is modest (a small 2010-era acoustic model and a
general language model); it is the floor, not the goal.
"""

from __future__ import annotations

import re

import numpy as np

from appliance.config import AsrSettings
from appliance.errors import MissingDependencyError
from appliance.messages import RecognizedWord
from appliance.speech.asr import Recognizer

_ALTERNATE = re.compile(r"\(\d+\)$")
"""Dictionary variants come back as "and(2)"; the word is "and"."""


def _is_word(token: str) -> bool:
    """Silence, sentence marks and fillers ("<sil>", "</s>", "[NOISE]") are not words."""
    return not (token.startswith("<") or token.startswith("["))


class SphinxRecognizer(Recognizer):
    backend = "pocketsphinx"

    def __init__(self, settings: AsrSettings) -> None:
        super().__init__(settings)
        try:
            from pocketsphinx import Decoder
        except ImportError as error:
            raise MissingDependencyError(f"pocketsphinx: not installed ({error}); "
                                         "pip install pocketsphinx") from None
        self._decoder = Decoder(loglevel="FATAL")
        self._frame_s = 1.0 / float(self._decoder.config["frate"])
        self._in_utterance = False

    def _feed(self, samples: np.ndarray) -> None:
        if not self._in_utterance:
            self._decoder.start_utt()
            self._in_utterance = True
        self._decoder.process_raw(samples.tobytes(), False, False)

    def _segment_words(self) -> list[RecognizedWord]:
        return [RecognizedWord(_ALTERNATE.sub("", segment.word), segment.start_frame * self._frame_s,
                               (segment.end_frame + 1) * self._frame_s)
                for segment in self._decoder.seg() if _is_word(segment.word)]

    def _partial_words(self) -> list[RecognizedWord]:
        return self._segment_words() if self._decoder.hyp() is not None else []

    def _final_words(self) -> list[RecognizedWord]:
        if not self._in_utterance:
            return []
        self._decoder.end_utt()
        self._in_utterance = False
        return self._segment_words() if self._decoder.hyp() is not None else []

    def _restart(self) -> None:
        if self._in_utterance:
            self._decoder.end_utt()
            self._in_utterance = False

    def _release(self) -> None:
        self._restart()
