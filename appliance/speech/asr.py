"""Streaming speech recognition: the `Recognizer` interface and the pre-roll buffer.

A `Recognizer` is fed 16 kHz int16 audio as it arrives (`accept`), returns a
partial `Transcript` after each feed, says when the utterance has ended
(`endpoint`), and gives the final words with times (`final`). The endpoint
is decided the same way for both backends: at least one word was
recognised, and for `endpoint_silence_ms` there has been neither a word nor
a sound within `QUIET_BELOW_PEAK_DB` of the utterance's loudest 10 ms. Word
times alone are not enough: vosk's partial words lag the audio by up to a
second and a half, so a gap after the last partial word may still be speech.
Noise that produces no words never ends an utterance; `max_utterance_s` does.

`appliance.speech.factory.open_recognizer` (above this interface and its
backends, which import it) picks the backend.
`PreRoll` keeps the audio from just before a detector onset, so that the
first syllable of an interruption reaches the recogniser.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections import deque

import numpy as np

from appliance.messages import SAMPLE_RATE_HZ, RecognizedWord, Transcript, samples_for_ms

QUIET_BELOW_PEAK_DB = 30.0
"""A 10 ms block this far below the utterance's loudest one counts as silence."""
_BLOCK = samples_for_ms(10)


class Recognizer(ABC):
    """Streaming recogniser of one utterance at a time; backends implement the `_` methods."""

    backend = "?"

    def __init__(self, endpoint_silence_ms: float, max_utterance_s: float) -> None:
        self._endpoint_samples = samples_for_ms(endpoint_silence_ms)
        self._max_samples = int(max_utterance_s * SAMPLE_RATE_HZ)
        self._begin(0.0)

    # --- what backends provide -------------------------------------------------
    @abstractmethod
    def _feed(self, samples: np.ndarray) -> None:
        """Decode more audio of the current utterance."""

    @abstractmethod
    def _partial_words(self) -> list[RecognizedWord]:
        """Best hypothesis so far, times relative to the utterance start."""

    @abstractmethod
    def _final_words(self) -> list[RecognizedWord]:
        """Finish the utterance and return its words; the backend is ready for the next one."""

    @abstractmethod
    def _restart(self) -> None:
        """Drop the current utterance without decoding the rest."""

    @abstractmethod
    def _release(self) -> None:
        """Free the backend's decoder; called again after it was freed."""

    # --- the interface ---------------------------------------------------------
    def accept(self, samples: np.ndarray) -> Transcript:
        """Feed mono int16 16 kHz audio; returns the words recognised so far (not final)."""
        samples = np.asarray(samples, dtype=np.int16).reshape(-1)
        if samples.size:
            self._track_loudness(samples)
            self._fed += samples.size
            self._feed(samples)
            self._words = tuple(self._partial_words())
        return self._transcript(self._words, final=False)

    @property
    def heard_s(self) -> float:
        """Audio fed into the current utterance, seconds."""
        return self._fed / SAMPLE_RATE_HZ

    @property
    def endpoint(self) -> bool:
        """True when the utterance is over: silence after its last word, or too long."""
        if self._fed >= self._max_samples:
            return True
        if not self._words:
            return False
        last_word_end = int(self._words[-1].end_s * SAMPLE_RATE_HZ)
        last_sound = max(last_word_end, self._loud_until)
        return self._fed - last_sound >= self._endpoint_samples

    def _track_loudness(self, samples: np.ndarray) -> None:
        """Remember where the last 10 ms block that was not quiet ended."""
        blocks = np.array_split(samples.astype(np.float64), max(1, round(samples.size / _BLOCK)))
        rms = np.array([np.sqrt(np.mean(block**2)) for block in blocks])
        ends = np.cumsum([block.size for block in blocks])
        self._peak_rms = max(self._peak_rms, float(rms.max()))
        loud = np.flatnonzero(rms > self._peak_rms * 10 ** (-QUIET_BELOW_PEAK_DB / 20.0))
        if loud.size:
            self._loud_until = self._fed + int(ends[loud[-1]])

    def final(self) -> Transcript:
        """The utterance's final words with times; the next `accept` starts a new utterance."""
        words = tuple(self._final_words())
        transcript = self._transcript(words, final=True)
        self._begin(self._start_t + self.heard_s)
        return transcript

    def reset(self, t: float = 0.0) -> None:
        """Drop the current utterance; `t` is the pipeline time of the next utterance's first sample."""
        self._restart()
        self._begin(t)

    def close(self) -> None:
        """Free the decoder. Safe to call twice."""
        self._release()

    def __enter__(self) -> Recognizer:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def _begin(self, t: float) -> None:
        self._fed = 0
        self._start_t = t
        self._words: tuple[RecognizedWord, ...] = ()
        self._peak_rms = 0.0
        self._loud_until = 0

    def _transcript(self, words: tuple[RecognizedWord, ...], final: bool) -> Transcript:
        text = " ".join(word.word for word in words)
        return Transcript(t=self._start_t + self.heard_s, text=text, final=final, words=words)


class PreRoll:
    """The last `preroll_ms` of audio, so an utterance can start before its detected onset."""

    def __init__(self, preroll_ms: float) -> None:
        self._capacity = samples_for_ms(preroll_ms)
        self._frames: deque[np.ndarray] = deque()
        self._held = 0

    def push(self, frame: np.ndarray) -> None:
        """Keep `frame`, forgetting whole frames older than the pre-roll."""
        self._frames.append(np.array(frame, dtype=np.int16).reshape(-1))
        self._held += self._frames[-1].size
        while self._frames and self._held - self._frames[0].size >= self._capacity:
            self._held -= self._frames.popleft().size

    def drain(self) -> np.ndarray:
        """The held audio (the last `preroll_ms`, oldest first) and an empty buffer."""
        held = np.concatenate(self._frames) if self._frames else np.zeros(0, dtype=np.int16)
        self.clear()
        return held[-self._capacity:] if self._capacity else held[:0]

    def clear(self) -> None:
        self._frames.clear()
        self._held = 0

