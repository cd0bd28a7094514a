"""The one message vocabulary every stage shares: audio frames and events.

Small frozen dataclasses, so that a queue between two threads carries values
that nobody can change under the other's feet. Times are seconds since the
pipeline started (`t`), sample counts are at the internal rate.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from typing import Protocol

import numpy as np

SAMPLE_RATE_HZ = 16000
"""Internal rate of everything that listens or speaks, Hertz (mono int16)."""


def samples_for_ms(ms: float, rate_hz: int = SAMPLE_RATE_HZ) -> int:
    """Number of samples in `ms` milliseconds at `rate_hz`."""
    return int(round(ms * rate_hz / 1000.0))


class State(enum.Enum):
    """The conversation's turn-taking state, shown on the LED and in systemd's STATUS=."""

    IDLE = "idle"
    LISTENING = "listening"
    THINKING = "thinking"
    SPEAKING = "speaking"
    YIELDING = "yielding"
    ERROR = "error"


@dataclass(frozen=True)
class AudioFrame:
    """Cleaned 16 kHz mono int16 audio, when its first sample was captured, and what the
    front end's VAD made of it: the highest speech probability of its AEC frames (0..1)."""

    samples: np.ndarray
    t: float
    speech_probability: float = 0.0


@dataclass(frozen=True)
class WordTiming:
    """A word of synthesised speech and where it lies in its chunk, in samples."""

    word: str
    start_sample: int
    end_sample: int


@dataclass(frozen=True)
class SpeechChunk:
    """One clause of synthesised agent speech with its word boundaries."""

    text: str
    samples: np.ndarray
    rate_hz: int
    words: tuple[WordTiming, ...] = ()


@dataclass(frozen=True)
class RecognizedWord:
    """A word the recogniser heard, with times relative to the utterance start."""

    word: str
    start_s: float
    end_s: float


class SpeakerControl(Protocol):
    """What the barge-in detector may do to the agent's voice."""

    @property
    def played_samples(self) -> int: ...

    def duck(self, db: float, ms: float) -> None: ...

    def restore(self, ms: float) -> None: ...

    def cut(self, fade_ms: float | None = None) -> None: ...


@dataclass(frozen=True)
class Event:
    """Base of every event; `t` is seconds since the pipeline started."""

    t: float


@dataclass(frozen=True)
class BargeInDuck(Event):
    """Speech-like onset while the agent speaks: the agent was ducked."""

    onset_t: float


@dataclass(frozen=True)
class BargeInRelease(Event):
    """An onset that was not confirmed: the agent's volume was restored."""

    onset_t: float


@dataclass(frozen=True)
class BargeIn(Event):
    """A confirmed interruption: the agent was cut. `source` says what confirmed it."""

    onset_t: float
    played_samples: int
    source: str = "speech"  # speech | push_to_talk | wake_word


@dataclass(frozen=True)
class WakeWord(Event):
    """The wake word model fired."""

    model: str
    score: float


@dataclass(frozen=True)
class Transcript(Event):
    """Recognised words of one utterance; `final` once the endpoint was reached."""

    text: str
    final: bool
    words: tuple[RecognizedWord, ...] = field(default=())


class PeriodSink(Protocol):
    """Whoever listens to the duplex loop: called once per period, in the loop's thread.

    `mic` is what was captured, `played` exactly what was written to the card in
    the same period, `delay_samples` the current playback-to-capture delay of the
    device (buffer fill), and `realign` is True after an xrun changed it. It must
    return quickly: anything slow goes to another thread through a bounded queue.
    """

    def on_period(
        self, mic: np.ndarray, played: np.ndarray, t: float, delay_samples: int, realign: bool
    ) -> None: ...
