"""A simulated room behind the `AudioDevice` interface, for measurement.

Deterministic for a seed and faster than real time: each `exchange()` runs
one period of the model below. It implements every `[room]` key of BENCH.md.

Timeline: sample 0 is the first sample the loudspeaker emits; the speaker and
the microphone share that clock. Like the ALSA device, the room has a card
buffer: playback starts behind `periods - 1` periods of silence, so a sample
written in period i leaves the loudspeaker in period i + periods - 1, and
`drop_playback()` discards that modelled buffer (the next period written then
plays first, with silence behind it, exactly as `AlsaDevice` refills).

Acoustic model (`appliance.audio.acoustics`): the loudspeaker (amplifier
compression, soft clipping) feeds the echo path's impulse response (the
`simple` decaying-noise model by default, or a `shoebox` room); the caller
(`add_caller`, times `caller_gain_db`) reaches the microphone dry in the
simple model or through its own impulse response in a shoebox room; noise
(white, pink = white shaped 1/f in the frequency domain, or a looped WAV) is
scaled to an RMS of `noise_dbfs` re full scale.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from appliance.audio.acoustics import Loudspeaker, convolve, shoebox_responses, simple_echo_response
from appliance.audio.device import AudioDevice
from appliance.audiofile import read_wav, to_int16
from appliance.errors import AudioDeviceError
from appliance.messages import samples_for_ms
from appliance.settings import setting

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
    # Optional keys beyond BENCH.md's original set (docs/bench.md, "Room model").
    model: str = setting("simple", "echo and caller paths: simple = one decaying-noise echo path and a "
                                   "dry caller; shoebox = image-source room (pyroomacoustics)",
                         choices=("simple", "shoebox"))
    room_dim_m: tuple[float, ...] = setting((5.0, 4.0, 3.0), "shoebox room size [x, y, z], metres",
                                            min=1, max=50)
    speaker_pos_m: tuple[float, ...] = setting((2.5, 0.3, 1.2), "shoebox loudspeaker position, metres",
                                               min=0, max=50)
    mic_pos_m: tuple[float, ...] = setting((2.5, 0.45, 1.3), "shoebox microphone position, metres",
                                           min=0, max=50)
    caller_pos_m: tuple[float, ...] = setting((2.5, 1.8, 1.6), "shoebox caller's mouth position, metres",
                                              min=0, max=50)
    absorption: float = setting(0.0, "shoebox wall energy absorption; 0 = from rt60_s (Sabine)",
                                min=0, max=1)
    speaker_asymmetry: float = setting(0.0, "soft clipping this much harder on positive half-waves "
                                            "(and softer on negative ones), 0 = symmetric", min=0, max=0.9)
    amp_compression: float = setting(1.0, "amplifier compression ratio above amp_threshold_dbfs, "
                                          "1 = none", min=1, max=20)
    amp_threshold_dbfs: float = setting(-20.0, "amplifier compression threshold (10 ms RMS), dBFS",
                                        min=-60, max=0)


def echo_impulse_response(room: RoomSettings, rng: np.random.Generator) -> np.ndarray:
    """The modelled loudspeaker-to-microphone impulse response at 16 kHz."""
    return room_responses(room, rng)[0]


def room_responses(room: RoomSettings, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray | None]:
    """(echo, caller) impulse responses; the caller's is None when it reaches the mic dry."""
    if room.model == "shoebox":
        return shoebox_responses(room, rng)
    return simple_echo_response(room, rng), None


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
        self.impulse_response, self._caller_response = room_responses(self.room, rng)
        self._reversed_response = np.ascontiguousarray(self.impulse_response[::-1])
        self._noise = _Noise(self.room, rng, base_dir)
        self._loudspeaker = Loudspeaker(self.room, self._period)
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
        """The loudspeaker's (compressed, soft-clipped) output through the echo path."""
        radiated = self._loudspeaker(emitted)
        history = np.concatenate([self._emitted_tail, radiated])
        if self._emitted_tail.size:
            self._emitted_tail = history[-self._emitted_tail.size:]
        # One matrix-vector product (np.convolve's "valid" mode costs the full product: 57 ms
        # a period for a 0.7 s room response, against about 1 ms this way).
        return sliding_window_view(history, self._reversed_response.size) @ self._reversed_response

    # -- scenario and recordings -----------------------------------------------

    def add_caller(self, samples: np.ndarray, at_sample: int) -> None:
        """Place caller audio (16 kHz int16) so its first sample reaches the mic at `at_sample`."""
        gain = 10.0 ** (self.room.caller_gain_db / 20.0)
        caller = np.asarray(samples, dtype=np.float64) * gain
        if self._caller_response is not None:
            caller = convolve(caller, self._caller_response)
        self._caller.add(caller, at_sample)

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
