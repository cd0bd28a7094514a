"""Impulse responses and the loudspeaker of the simulated room (16 kHz, float, full scale = 1).

Two path models, chosen by `[room] model`:

- `simple` (the fast default): one echo path, a direct tap of gain
  `echo_gain_db` at `echo_delay_ms` and, when `rt60_s > 0`, a tail of seeded
  Gaussian noise under an envelope falling 60 dB over `rt60_s`, with its energy
  `REVERB_DRR_DB` below the direct tap's; the caller reaches the mic dry.
- `shoebox`: pyroomacoustics' image-source model of a rectangular room with a
  loudspeaker, a microphone and a caller at given positions. The echo and the
  caller get *different* impulse responses, as in a real room. Wall absorption
  is `absorption`, or derived from `rt60_s` by Sabine's formula when that is 0.
  The image sources go to `MAX_IMAGE_ORDER` reflections (a hard room's Sabine
  order runs to 100+, i.e. millions of images and minutes per response); from
  `MIXING_TIME_S` after the direct path on, the response continues as seeded
  Gaussian noise decaying 60 dB over `rt60_s` (the diffuse late tail of
  hybrid room models), matched to the image sources' level where it starts.
  Each response is scaled to the energy of the simple model's (the echo's:
  `echo_gain_db` direct plus its tail; the caller's: unity, then
  `caller_gain_db`), and the echo's direct path is placed at `echo_delay_ms`:
  levels, and so the signal-to-echo ratio `caller_gain_db - echo_gain_db`,
  keep their meaning across models; the shape of the reverberation and the
  caller's own room change.
  pyroomacoustics is a bench extra (`pip install -c constraints.txt '.[bench]'`).

The loudspeaker (`Loudspeaker`) is an amplifier with an optional compressor
(`amp_compression`, `amp_threshold_dbfs`) driving a driver that soft-clips
(`speaker_clip`), optionally harder on one half-wave (`speaker_asymmetry`).
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

import numpy as np

from appliance.errors import ApplianceError
from appliance.messages import SAMPLE_RATE_HZ, samples_for_ms

if TYPE_CHECKING:
    from appliance.audio.room import RoomSettings

REVERB_DRR_DB = 3.0
"""Direct-to-reverberant energy ratio of the simple model's echo path, decibels."""

SPEED_OF_SOUND_M_S = 343.0
MAX_IMAGE_ORDER = 8
MIXING_TIME_S = 0.05
COMPRESSOR_ATTACK_MS = 5.0
COMPRESSOR_RELEASE_MS = 150.0


def simple_echo_response(room: RoomSettings, rng: np.random.Generator) -> np.ndarray:
    """The simple model's loudspeaker-to-microphone impulse response."""
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


def geometry_problem(room: RoomSettings) -> tuple[str, str] | None:
    """(key, what was expected) if the shoebox geometry is unusable; None if it is fine."""
    if room.model != "shoebox":
        return None
    if len(room.room_dim_m) != 3:
        return "room_dim_m", f"three lengths [x, y, z] in metres, got {list(room.room_dim_m)}"
    for key in ("speaker_pos_m", "mic_pos_m", "caller_pos_m"):
        position = getattr(room, key)
        if len(position) != 3 or not all(0 < p < d for p, d in zip(position, room.room_dim_m, strict=False)):
            return key, (f"a point [x, y, z] inside the room {list(room.room_dim_m)} m, "
                         f"got {list(position)}")
    for key in ("speaker_pos_m", "caller_pos_m"):
        if math.dist(getattr(room, key), room.mic_pos_m) < 0.05:
            return key, "at least 5 cm from mic_pos_m"
    shortest = _sabine_rt60(*_volume_surface(room.room_dim_m), 1.0)
    if room.absorption == 0 and 0 < room.rt60_s < shortest:
        return "rt60_s", (f"at least {shortest:.2f} s in a room of {list(room.room_dim_m)} m "
                          "(walls cannot absorb more than everything)")
    return None


def _volume_surface(dims: tuple[float, ...]) -> tuple[float, float]:
    x, y, z = dims
    return x * y * z, 2 * (x * y + y * z + x * z)


def _sabine_rt60(volume: float, surface: float, absorption: float) -> float:
    return 0.161 * volume / (surface * absorption)


def _pyroomacoustics():
    try:
        import pyroomacoustics
    except ImportError:
        raise ApplianceError("[room] model = \"shoebox\" needs pyroomacoustics, a bench extra: "
                             "pip install -c constraints.txt '.[bench]'") from None
    return pyroomacoustics


def shoebox_responses(room: RoomSettings, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """(echo, caller) impulse responses of the shoebox room, scaled and placed as documented."""
    pra = _pyroomacoustics()
    dims = np.asarray(room.room_dim_m, dtype=float)
    if room.absorption > 0:
        absorption, rt60 = room.absorption, _sabine_rt60(*_volume_surface(room.room_dim_m), room.absorption)
    else:
        rt60 = room.rt60_s
        absorption = pra.inverse_sabine(rt60, dims)[0] if rt60 > 0 else 1.0
    max_order = pra.inverse_sabine(rt60, dims)[1] if rt60 > 0 else 0
    shoebox = pra.ShoeBox(dims, fs=SAMPLE_RATE_HZ, materials=pra.Material(min(absorption, 1.0)),
                          max_order=min(int(max_order), MAX_IMAGE_ORDER), air_absorption=False)
    shoebox.add_source(list(room.speaker_pos_m))
    shoebox.add_source(list(room.caller_pos_m))
    shoebox.add_microphone(list(room.mic_pos_m))
    shoebox.compute_rir()
    echo_energy = 10.0 ** (room.echo_gain_db / 10.0) * (1.0 + (rt60 > 0) * 10 ** (-REVERB_DRR_DB / 10))
    echo = _direct_path_at(_with_late_tail(shoebox.rir[0][0], rt60, rng), echo_energy,
                           samples_for_ms(room.echo_delay_ms))
    caller = _direct_path_at(_with_late_tail(shoebox.rir[0][1], rt60, rng), 1.0, 0)
    return echo, caller


def _with_late_tail(response: np.ndarray, rt60_s: float, rng: np.random.Generator) -> np.ndarray:
    """Replace what follows the mixing time with a diffuse tail at the image sources' level."""
    response = np.asarray(response, dtype=float)
    if rt60_s <= 0:
        return response
    mixing = int(np.argmax(np.abs(response))) + int(MIXING_TIME_S * SAMPLE_RATE_HZ)
    window = response[mixing - int(0.02 * SAMPLE_RATE_HZ):mixing]
    length = int(rt60_s * SAMPLE_RATE_HZ)
    t = np.arange(length) / SAMPLE_RATE_HZ
    tail = rng.standard_normal(length) * np.exp(-6.91 * t / rt60_s) * np.sqrt(np.mean(window**2))
    head = np.concatenate([response[:mixing], np.zeros(max(0, mixing - len(response)))])
    return np.concatenate([head, tail])


def _direct_path_at(response: np.ndarray, energy: float, at_sample: int) -> np.ndarray:
    """Scale the response to `energy`, its direct path (largest tap) moved to `at_sample`.

    The fractional-delay filter's ringing before the peak is kept as far as
    `at_sample` allows; the caller's response starts at its direct path, so
    the scenario's onset stays where the contract puts it.
    """
    peak = int(np.argmax(np.abs(response)))
    keep = min(peak, at_sample)
    kept = response[peak - keep:] * np.sign(response[peak])
    return np.concatenate([np.zeros(at_sample - keep), kept * np.sqrt(energy / np.sum(kept**2))])


def convolve(signal: np.ndarray, response: np.ndarray) -> np.ndarray:
    """Full linear convolution by FFT (a caller's seconds of audio against a long room tail)."""
    size = len(signal) + len(response) - 1
    n = 1 << (size - 1).bit_length()
    return np.fft.irfft(np.fft.rfft(signal, n) * np.fft.rfft(response, n), n)[:size]


class Loudspeaker:
    """Amplifier (optional compressor) and driver (optional soft clipping), period by period."""

    def __init__(self, room: RoomSettings, period_samples: int) -> None:
        self._drive = 4.0 * room.speaker_clip
        self._asymmetry = room.speaker_asymmetry
        self._ratio = room.amp_compression
        self._threshold_db = room.amp_threshold_dbfs
        period_s = period_samples / SAMPLE_RATE_HZ
        self._attack = math.exp(-period_s / (COMPRESSOR_ATTACK_MS / 1000.0))
        self._release = math.exp(-period_s / (COMPRESSOR_RELEASE_MS / 1000.0))
        self._gain_db = 0.0

    def __call__(self, emitted: np.ndarray) -> np.ndarray:
        return self._clip(self._compress(emitted))

    def _compress(self, signal: np.ndarray) -> np.ndarray:
        """Feed-forward RMS compressor; the gain moves once per period, ramped across it."""
        if self._ratio <= 1.0 or not len(signal):
            return signal
        level_db = 10.0 * math.log10(float(np.mean(signal**2)) + 1e-12)
        target_db = -max(0.0, level_db - self._threshold_db) * (1.0 - 1.0 / self._ratio)
        smoothing = self._attack if target_db < self._gain_db else self._release
        previous = self._gain_db
        self._gain_db = smoothing * self._gain_db + (1.0 - smoothing) * target_db
        ramp = np.linspace(previous, self._gain_db, len(signal), endpoint=False)
        return signal * 10.0 ** (ramp / 20.0)

    def _clip(self, signal: np.ndarray) -> np.ndarray:
        """tanh(k x)/k with k = 4 * speaker_clip; one half-wave driven (1 + asymmetry) harder."""
        if not self._drive:
            return signal
        if not self._asymmetry:
            return np.tanh(self._drive * signal) / self._drive
        drive = np.where(signal >= 0, self._drive * (1.0 + self._asymmetry),
                         self._drive * (1.0 - self._asymmetry))
        return np.tanh(drive * signal) / drive
