"""A simulated room behind the `AudioDevice` interface, for measurement.

Deterministic for a seed and faster than real time: each `exchange()` runs
one period of the model below. It implements every `[room]` key of BENCH.md.

Timeline: sample 0 is the first sample the loudspeaker emits; the speaker and
the microphone share that clock. Like the ALSA device, the room has a card
buffer: playback starts behind `periods - 1` periods of silence, so a sample
written in period i leaves the loudspeaker in period i + periods - 1, and
`drop_playback()` discards that modelled buffer (the next period written then
plays first, with silence behind it, exactly as `AlsaDevice` refills).

Acoustic model (pyroomacoustics is not installed; this is the documented
exponential-decay model):

- loudspeaker: `tanh(k*x)/k` with `k = 4*speaker_clip` on full-scale float
  samples (linear when 0); unity small-signal gain, peaks compressed towards
  1/k (the non-linear echo a linear canceller leaves behind);
- echo path impulse response: a direct tap of gain `echo_gain_db` at
  `echo_delay_ms`, then, when `rt60_s > 0`, a tail of seeded Gaussian noise
  under an envelope falling 60 dB over `rt60_s` (exp(-6.91 t / rt60)), scaled
  so that its energy is `REVERB_DRR_DB` below the direct tap's;
- microphone: echo + caller (`add_caller`, times `caller_gain_db`) + noise
  (white, pink = white shaped 1/f in the frequency domain, or a looped WAV,
  each scaled to an RMS of `noise_dbfs` re full scale).
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from appliance.audio.device import AudioDevice
from appliance.audiofile import read_wav, to_int16
from appliance.errors import AudioDeviceError
from appliance.messages import SAMPLE_RATE_HZ, samples_for_ms
from appliance.settings import setting

REVERB_DRR_DB = 3.0
"""Direct-to-reverberant energy ratio of the modelled echo path, decibels."""

_PINK_LOOP_SAMPLES = 1 << 19  # ~33 s of pink noise, generated once and looped
_FULL_SCALE = 32768.0


@dataclass(frozen=True)
class RoomSettings:
    echo_delay_ms: float = setting(10.0, "loudspeaker to microphone delay, milliseconds", min=0, max=500)
    echo_gain_db: float = setting(0.0, "direct echo at the mic vs. the speaker signal, decibels",
                                  min=-80, max=20)
    rt60_s: float = setting(0.25, "reverberation time, seconds; 0 = direct path only", min=0, max=2)
    speaker_clip: float = setting(0.0, "soft-clip drive of the loudspeaker, 0 = linear", min=0, max=10)
    caller_gain_db: float = setting(0.0, "gain applied to the caller's audio, decibels", min=-80, max=40)
    noise: str = setting("none", "none | white | pink | path to a WAV (looped)")
    noise_dbfs: float = setting(-60.0, "noise RMS at the mic, dBFS", min=-120, max=0)
    seed: int = setting(0, "random seed for the reverb tail and the noise", min=0)


def echo_impulse_response(room: RoomSettings, rng: np.random.Generator) -> np.ndarray:
    """The modelled loudspeaker-to-microphone impulse response at 16 kHz."""
    delay = samples_for_ms(room.echo_delay_ms)
    gain = 10.0 ** (room.echo_gain_db / 20.0)
    tail_length = int(round(room.rt60_s * SAMPLE_RATE_HZ))
    response = np.zeros(delay + 1 + tail_length)
    response[delay] = gain
    if tail_length:
        t = np.arange(1, tail_length + 1) / SAMPLE_RATE_HZ
        tail = rng.standard_normal(tail_length) * np.exp(-6.91 * t / room.rt60_s)
        tail *= gain * 10.0 ** (-REVERB_DRR_DB / 20.0) / np.sqrt(np.sum(tail**2))
        response[delay + 1:] = tail
    return response


class _Noise:
    """Endless noise at a given RMS, one period at a time."""

    def __init__(self, room: RoomSettings, rng: np.random.Generator, base_dir: Path | None) -> None:
        self.rms = 10.0 ** (room.noise_dbfs / 20.0)
        self.kind = room.noise
        self.rng = rng
        self.position = 0
        self.loop: np.ndarray | None = None
        if room.noise == "pink":
            spectrum = np.fft.rfft(rng.standard_normal(_PINK_LOOP_SAMPLES))
            spectrum[1:] /= np.sqrt(np.arange(1, spectrum.size))
            spectrum[0] = 0.0
            self.loop = _normalised(np.fft.irfft(spectrum, _PINK_LOOP_SAMPLES))
        elif room.noise not in ("none", "white"):
            path = Path(room.noise)
            if base_dir is not None and not path.is_absolute():
                path = base_dir / path
            self.loop = _normalised(read_wav(path).astype(np.float64))

    def take(self, n: int) -> np.ndarray:
        if self.kind == "none":
            return np.zeros(n)
        if self.loop is None:
            return self.rms * self.rng.standard_normal(n)
        index = (self.position + np.arange(n)) % self.loop.size
        self.position = int((self.position + n) % self.loop.size)
        return self.rms * self.loop[index]


def _normalised(signal: np.ndarray) -> np.ndarray:
    rms = np.sqrt(np.mean(signal**2))
    return signal / rms if rms > 0 else signal


class _Track:
    """Signals placed at sample positions, read back one span at a time."""

    def __init__(self) -> None:
        self.parts: list[tuple[int, np.ndarray]] = []

    def add(self, samples: np.ndarray, at_sample: int) -> None:
        self.parts.append((int(at_sample), np.asarray(samples, dtype=np.float64)))

    def span(self, start: int, n: int) -> np.ndarray:
        out = np.zeros(n)
        for at, samples in self.parts:
            lo, hi = max(start, at), min(start + n, at + samples.size)
            if lo < hi:
                out[lo - start:hi - start] += samples[lo - at:hi - at]
        return out

    def end(self) -> int:
        return max((at + samples.size for at, samples in self.parts), default=0)


class SimulatedRoom(AudioDevice):
    """Loudspeaker, echo path, caller and noise, recorded sample by sample."""

    def __init__(self, room: RoomSettings, period_ms: int = 10, periods: int = 3,
                 seed: int | None = None, base_dir: Path | None = None) -> None:
        self.room = room if seed is None else dataclasses.replace(room, seed=seed)
        self._period = samples_for_ms(period_ms)
        self._depth = (periods - 1) * self._period
        rng = np.random.default_rng(self.room.seed)
        self.impulse_response = echo_impulse_response(self.room, rng)
        self._noise = _Noise(self.room, rng, base_dir)
        self._drive = 4.0 * self.room.speaker_clip
        self._caller = _Track()
        self._planned = _Track()
        self._card = np.zeros(self._depth)
        self._emitted_tail = np.zeros(self.impulse_response.size - 1)
        self._refill = False
        self._open = False
        self._clock = 0
        self._records: dict[str, list[np.ndarray]] = {
            "actual": [], "mic": [], "caller_only": [], "echo_only": []}

    # -- AudioDevice ---------------------------------------------------------------

    @property
    def period_samples(self) -> int:
        return self._period

    @property
    def output_delay_samples(self) -> int:
        return self._card.size

    @property
    def playback_queued_samples(self) -> int:
        return self._card.size

    @property
    def xruns(self) -> int:
        return 0

    @property
    def samples_elapsed(self) -> int:
        """Room clock: samples emitted (and captured) so far."""
        return self._clock

    def open(self) -> None:
        self._open = True

    def close(self) -> None:
        self._open = False

    def drop_playback(self) -> None:
        self._card = np.zeros(0)
        self._refill = True

    def exchange(self, playback: np.ndarray) -> np.ndarray:
        if not self._open:
            raise AudioDeviceError("simulated room used before open() or after close()")
        written = np.asarray(playback, dtype=np.float64) / _FULL_SCALE
        self._card = np.concatenate([self._card, written])
        if self._refill:
            self._refill = False
            self._card = np.concatenate([self._card, np.zeros(self._depth)])
        emitted, self._card = self._card[: self._period], self._card[self._period:]
        echo = self._echo(emitted)
        caller = self._caller.span(self._clock, self._period) / _FULL_SCALE
        mic = to_int16(echo + caller + self._noise.take(self._period))
        for name, signal in (("actual", emitted), ("caller_only", caller), ("echo_only", echo)):
            self._records[name].append(to_int16(signal))
        self._records["mic"].append(mic)
        self._clock += self._period
        return mic

    def _echo(self, emitted: np.ndarray) -> np.ndarray:
        """The loudspeaker's (soft-clipped) output through the echo path."""
        radiated = np.tanh(self._drive * emitted) / self._drive if self._drive else emitted
        history = np.concatenate([self._emitted_tail, radiated])
        if self._emitted_tail.size:
            self._emitted_tail = history[-self._emitted_tail.size:]
        return np.convolve(history, self.impulse_response, mode="valid")

    # -- scenario and recordings -----------------------------------------------

    def add_caller(self, samples: np.ndarray, at_sample: int) -> None:
        """Place caller audio (16 kHz int16) so its first sample reaches the mic at `at_sample`."""
        gain = 10.0 ** (self.room.caller_gain_db / 20.0)
        self._caller.add(np.asarray(samples, dtype=np.float64) * gain, at_sample)

    def plan(self, samples: np.ndarray, at_sample: int) -> None:
        """Record the agent audio that would leave the loudspeaker at `at_sample`
        if nothing interrupted it (the bench compares it with `actual`)."""
        self._planned.add(samples, at_sample)

    @property
    def planned(self) -> np.ndarray:
        length = max(self._clock, self._planned.end())
        return to_int16(self._planned.span(0, length) / _FULL_SCALE)

    @property
    def actual(self) -> np.ndarray:
        """What was sent to the loudspeaker (before its soft clipping)."""
        return self._recording("actual")

    @property
    def mic(self) -> np.ndarray:
        return self._recording("mic")

    @property
    def caller_only(self) -> np.ndarray:
        return self._recording("caller_only")

    @property
    def echo_only(self) -> np.ndarray:
        return self._recording("echo_only")

    def forget(self) -> None:
        """Drop the recordings and the caller audio already played: a soak of hours keeps
        no history (it would grow by ~0.5 GB an hour and slow every period down)."""
        for parts in self._records.values():
            parts.clear()
        self._caller.parts = [(at, s) for at, s in self._caller.parts if at + s.size > self._clock]
        self._planned.parts = [(at, s) for at, s in self._planned.parts if at + s.size > self._clock]

    def _recording(self, name: str) -> np.ndarray:
        parts = self._records[name]
        return np.concatenate(parts) if parts else np.zeros(0, dtype=np.int16)
