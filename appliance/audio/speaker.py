"""The agent's voice: a bounded queue the duplex loop pulls one period from.

TTS threads `enqueue()` clauses (any rate; resampled to 16 kHz with soxr).
The duplex loop calls `pull(n)` every period and always gets `n` samples
(silence when the agent is quiet). The barge-in detector calls `duck()`,
`restore()` and `cut()` from its own thread; they take effect at the next
period, as per-sample gain ramps, never steps.

Back-pressure: `enqueue()` accepts a whole clause as soon as fewer than
`speaker_queue_periods` periods are waiting, and blocks (with an optional
timeout) otherwise. So the queue holds at most one clause plus a few periods:
TTS can synthesise the next clause while the current one plays, and nothing
stale survives a cut, because a cut discards the queue outright.

A cut must sound like a fade, not a click, although the card still holds a
few periods of audio that were written at full gain. So the cut "rewinds":
it takes back what the card holds (`drop_playback()`), and plays a
raised-cosine fade that starts on exactly the sample the listener would have
heard next. That needs a driver whose buffer fill is what `avail()` says;
PulseAudio hides tens of ms on its server and flushes them on a drop, which
clicks, so `audio.cut_rewinds_card = false` fades after the card buffer
instead (one buffer more latency, never a click).

`played_samples` counts agent samples that went to the card and were not
dropped: the conversation maps it to the last word heard, using the start
index `enqueue()` returned for each clause.
"""

from __future__ import annotations

import threading
import time
from collections import deque

import numpy as np

from appliance.audio.device import AudioDevice
from appliance.audiofile import resample, to_int16
from appliance.config import AudioSettings
from appliance.messages import SAMPLE_RATE_HZ, SpeechChunk, samples_for_ms

_HISTORY_SAMPLES = SAMPLE_RATE_HZ  # output remembered for rewinding; more than any card buffer
_FADE_MS_RANGE = (5.0, 20.0)


def raised_cosine_fade(length: int) -> np.ndarray:
    """Gains falling from 1 towards 0 over `length` samples, without either end
    point, so that no sample is exactly full gain or exactly zero."""
    steps = np.arange(1, length + 1, dtype=np.float64)
    return (0.5 * (1.0 + np.cos(np.pi * steps / (length + 1)))).astype(np.float32)


class Speaker:
    """Implements `messages.SpeakerControl`; fed by TTS, drained by the duplex loop."""

    def __init__(self, device: AudioDevice, settings: AudioSettings) -> None:
        self._device = device
        self._default_fade_ms = settings.fade_ms
        self._rewind = settings.cut_rewinds_card
        self._capacity = settings.speaker_queue_periods * device.period_samples
        self._lock = threading.Lock()
        self._room = threading.Condition(self._lock)
        self._queue: deque[np.ndarray] = deque()
        self._queued = 0
        self._fade = np.zeros(0, dtype=np.float32)  # final samples of a cut, played verbatim
        self._fade_agent = np.zeros(0, dtype=bool)
        self._gain = 1.0
        self._gain_target = 1.0
        self._gain_step = 0.0
        self._cut_fade_ms: float | None = None
        self._generation = 0  # bumped by a cut: enqueues waiting from before it give up
        self._pulled = 0  # agent samples handed to the device
        self._history = np.zeros(0, dtype=np.float32)  # recent output, for rewinding
        self._history_agent = np.zeros(0, dtype=bool)
        self.drops = 0
        """How many times a cut discarded audio the card held (each changes the echo delay)."""

    # -- feeding (TTS threads) ---------------------------------------------------

    def enqueue(self, chunk: SpeechChunk, timeout: float | None = None) -> int | None:
        """Queue one clause; see `enqueue_audio`."""
        return self.enqueue_audio(chunk.samples, chunk.rate_hz, timeout)

    def enqueue_audio(
        self, samples: np.ndarray, rate_hz: int, timeout: float | None = None
    ) -> int | None:
        """Queue agent audio and return the `played_samples` value at which its
        first sample will play. Blocks while the queue is full; returns None if
        a cut (or `close()`) happened meanwhile (the audio is stale), raises
        TimeoutError after `timeout` seconds."""
        audio = _as_float(samples)
        if rate_hz != SAMPLE_RATE_HZ:
            audio = resample(audio, rate_hz).astype(np.float32)
        deadline = None if timeout is None else time.monotonic() + timeout
        with self._room:
            generation = self._generation
            while self._queued >= self._capacity:
                remaining = None if deadline is None else deadline - time.monotonic()
                if remaining is not None and remaining <= 0:
                    raise TimeoutError("speaker queue stayed full")
                self._room.wait(remaining)
                if self._generation != generation:
                    return None
            if self._generation != generation:
                return None
            start = self._pulled + int(self._fade_agent.sum()) + self._queued
            if audio.size:
                self._queue.append(audio)
                self._queued += audio.size
            return start

    # -- control (any thread; effective at the next period) --------------------

    def duck(self, db: float, ms: float) -> None:
        self._ramp_to(10.0 ** (db / 20.0), ms)

    def restore(self, ms: float) -> None:
        self._ramp_to(1.0, ms)

    def cut(self, fade_ms: float | None = None) -> None:
        fade = self._default_fade_ms if fade_ms is None else fade_ms
        with self._lock:
            self._cut_fade_ms = min(max(fade, _FADE_MS_RANGE[0]), _FADE_MS_RANGE[1])

    def discard(self) -> None:
        """Forget all agent audio, queued, fading or remembered as in the card, and release
        any TTS thread waiting for room: the card it was meant for is gone (reopened) or
        the kiosk is closing."""
        with self._room:
            self._clear_queue()
            self._fade, self._fade_agent = np.zeros(0, dtype=np.float32), np.zeros(0, dtype=bool)
            self._history, self._history_agent = (np.zeros(0, dtype=np.float32),
                                                   np.zeros(0, dtype=bool))
            self._room.notify_all()

    def close(self) -> None:
        """The speaker holds no resource: closing is discarding."""
        self.discard()

    def _ramp_to(self, gain: float, ms: float) -> None:
        with self._lock:
            self._gain_target = gain
            self._gain_step = (gain - self._gain) / max(1, samples_for_ms(ms))

    # -- state ---------------------------------------------------------------------

    @property
    def played_samples(self) -> int:
        with self._lock:
            return self._pulled

    @property
    def is_speaking(self) -> bool:
        """Agent audio queued, fading, or still in the card buffer."""
        with self._lock:
            held = min(self._device.playback_queued_samples, self._history_agent.size)
            in_card = bool(held and self._history_agent[-held:].any())
            return bool(self._queued or self._fade.size or in_card)

    # -- draining (the duplex loop's thread) ---------------------------------------

    def pull(self, n: int) -> np.ndarray:
        """The next `n` samples for the card (int16); silence when nothing is queued."""
        with self._room:
            if self._cut_fade_ms is not None:
                self._apply_cut(self._cut_fade_ms)
                self._cut_fade_ms = None
            out = np.zeros(n, dtype=np.float32)
            agent = np.zeros(n, dtype=bool)
            filled = min(n, self._fade.size)
            out[:filled], agent[:filled] = self._fade[:filled], self._fade_agent[:filled]
            self._fade, self._fade_agent = self._fade[filled:], self._fade_agent[filled:]
            taken = self._take(n - filled)
            out[filled:filled + taken.size] = taken
            agent[filled:filled + taken.size] = True
            self._pulled += int(agent.sum())
            self._remember(out, agent)
            if self._queued < self._capacity:
                self._room.notify_all()
        return to_int16(out)

    def _take(self, n: int) -> np.ndarray:
        """Up to `n` queued samples with the gain ramp applied."""
        parts, wanted = [], n
        while wanted and self._queue:
            head = self._queue[0]
            part, rest = head[:wanted], head[wanted:]
            if rest.size:
                self._queue[0] = rest
            else:
                self._queue.popleft()
            parts.append(part)
            wanted -= part.size
        if not parts:
            return np.zeros(0, dtype=np.float32)
        samples = np.concatenate(parts)
        self._queued -= samples.size
        return samples * self._gains(samples.size)

    def _gains(self, n: int) -> np.ndarray:
        """Per-sample gains moving linearly towards the target, then holding it."""
        if self._gain == self._gain_target:
            return np.full(n, self._gain, dtype=np.float32)
        ramp = self._gain + self._gain_step * np.arange(1, n + 1)
        limit = np.minimum if self._gain_step > 0 else np.maximum
        ramp = limit(ramp, self._gain_target)
        self._gain = float(ramp[-1])
        return ramp.astype(np.float32)

    def _remember(self, out: np.ndarray, agent: np.ndarray) -> None:
        self._history = np.concatenate([self._history, out])[-_HISTORY_SAMPLES:]
        self._history_agent = np.concatenate([self._history_agent, agent])[-_HISTORY_SAMPLES:]

    def _apply_cut(self, fade_ms: float) -> None:
        """Take back what the card holds, fade from the next unheard sample, drop the rest."""
        held = min(self._device.playback_queued_samples, self._history.size) if self._rewind else 0
        held_out = self._history[self._history.size - held:]
        held_agent = self._history_agent[self._history_agent.size - held:]
        if not (held_agent.any() or self._queued or self._fade.size):
            return  # nothing of the agent's is audible or pending: leave the card alone
        if held:
            self._device.drop_playback()
            self.drops += 1
            self._pulled -= int(held_agent.sum())
            self._history = self._history[: self._history.size - held]
            self._history_agent = self._history_agent[: self._history_agent.size - held]
        length = samples_for_ms(fade_ms)
        pending = np.concatenate([self._fade, held_out]) if self._fade.size else held_out
        pending_agent = np.concatenate([self._fade_agent, held_agent])
        following = self._take(max(0, length - pending.size))
        source = np.concatenate([pending, following])[:length]
        source_agent = np.concatenate([pending_agent, np.ones(following.size, bool)])[:length]
        self._fade = source * raised_cosine_fade(length)[: source.size]
        self._fade_agent = source_agent
        self._clear_queue()
        # A cut ends the utterance: the next one starts at full volume.
        self._gain = self._gain_target = 1.0
        self._gain_step = 0.0

    def _clear_queue(self) -> None:
        self._queue.clear()
        self._queued = 0
        self._generation += 1


def _as_float(samples: np.ndarray) -> np.ndarray:
    """Mono float32 in [-1, 1] from int16 or float input."""
    samples = np.asarray(samples)
    if np.issubdtype(samples.dtype, np.integer):
        return samples.astype(np.float32) / np.float32(32768.0)
    return samples.astype(np.float32)

