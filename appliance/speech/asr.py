"""Streaming speech recognition: the `Recognizer` interface and the pre-roll buffer.

A `Recognizer` is fed 16 kHz int16 audio as it arrives (`accept`), returns a
partial `Transcript` after each feed, says when the utterance has ended
(`endpoint`), and gives the final words with times (`final`). Fed offline
(`appliance transcribe`), the endpoint is the kiosk's rule
(`endpoint.EndpointRule`) over the recogniser's own evidence: at least one
word was recognised, and there has been neither a word nor a sound within
`QUIET_BELOW_PEAK_DB` of the utterance's loudest 10 ms for as long as the
words so far call for. Word times alone are not enough: vosk's partial words
lag the audio by up to a second and a half, so a gap after the last partial
word may still be speech; so the words only shorten or lengthen the wait when
the backend says its draft covers all the sound (`settled`). Noise that
produces no words never ends an utterance; `max_utterance_s` does.

`appliance.speech.factory.open_recognizer` (above this interface and its
backends, which import it) picks the backend.
`PreRoll` keeps the audio from just before a detector onset, so that the
first syllable of an interruption reaches the recogniser.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections import deque

import numpy as np

from appliance.config import AsrSettings
from appliance.messages import SAMPLE_RATE_HZ, RecognizedWord, Transcript, samples_for_ms
from appliance.speech.endpoint import EndpointRule

QUIET_BELOW_PEAK_DB = 30.0
"""A 10 ms block this far below the utterance's loudest one counts as silence."""
_BLOCK = samples_for_ms(10)


class Recognizer(ABC):
    """Streaming recogniser of one utterance at a time; backends implement the `_` methods."""

    backend = "?"

    def __init__(self, settings: AsrSettings) -> None:
        self._rule = EndpointRule(settings)
        self._max_samples = int(settings.max_utterance_s * SAMPLE_RATE_HZ)
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
    def settled(self) -> bool:
        """True when the partial words cover every sound fed so far (they are not lagging),
        so they may decide how long a pause ends the utterance. Backends whose partials
        lag the audio say False."""
        return False

    @property
    def settled_text(self) -> str | None:
        """The partial text when it is settled, else None."""
        return " ".join(word.word for word in self._words) if self.settled else None

    @property
    def quiet_ms(self) -> float:
        """Time since the utterance's last sound (a 10 ms block within `QUIET_BELOW_PEAK_DB`
        of its loudest), milliseconds; 0 before any sound."""
        if not self._peak_rms:
            return 0.0
        return (self._fed - self._loud_until) * 1000.0 / SAMPLE_RATE_HZ

    @property
    def too_long(self) -> bool:
        """The utterance reached `max_utterance_s`."""
        return self._fed >= self._max_samples

    @property
    def endpoint(self) -> bool:
        """True when the utterance is over (fed offline): silence after its last word and
        sound as long as the words call for, or too long."""
        if self.too_long:
            return True
        if not self._heard_enough():
            return False
        silence_ms = (self._fed - self._last_sound()) * 1000.0 / SAMPLE_RATE_HZ
        return self._rule.ended(silence_ms, self.settled_text, quiet_ms=silence_ms)

    def _heard_enough(self) -> bool:
        """Whether anything was heard that an endpoint could end: a recognised word."""
        return bool(self._words)

    def _last_sound(self) -> int:
        """Sample index (in the utterance) where the last word or sound ended."""
        last_word_end = int(self._words[-1].end_s * SAMPLE_RATE_HZ) if self._words else 0
        return max(last_word_end, self._loud_until)

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

