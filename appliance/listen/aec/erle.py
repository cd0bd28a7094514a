"""Run-time estimates of how much echo gets through: ERLE and the echo leak per band.

Updated only on far-end-only frames (the agent speaks, nobody else does):

- `erle_db`: mic power over linear-canceller residual power, smoothed (what
  speex achieves on its own; reported, and logged after pre-training);
- the echo leak: how loud the cleaned signal is per unit of recent far-end
  power, i.e. far-end energy x echo path gain / (ERLE x residual
  suppression). It depends strongly on frequency (the filter converges
  unevenly; fricatives leak differently from vowels), so it is tracked in a
  few bands. Per band the per-frame ratio swings by several dB, so the
  tracker keeps its smoothed mean and mean absolute deviation (in dB) and
  predicts mean + `deviations` x MAD: an upper bound the echo rarely exceeds.
  The MAD is floored (`min_spread_db`): the calibration burst is stationary
  noise whose leak hardly varies, and speech right after it must not find the
  bound too tight.
  The detector compares the cleaned power with the sum over bands of
  far-end power x that bound.
"""

from __future__ import annotations

import math

import numpy as np

from appliance.levels import POWER_FLOOR, db
from appliance.messages import SAMPLE_RATE_HZ

BAND_EDGES_HZ = (0.0, 500.0, 1500.0, 4000.0, SAMPLE_RATE_HZ / 2 + 1)


class BandSplitter:
    """Power of a frame in each band of `BAND_EDGES_HZ` (they add up to the frame's power)."""

    def __init__(self, frame_samples: int, rate_hz: int = SAMPLE_RATE_HZ) -> None:
        freqs = np.fft.rfftfreq(frame_samples, 1.0 / rate_hz)
        self._band_of_bin = np.digitize(freqs, BAND_EDGES_HZ[1:-1])
        self._bands = len(BAND_EDGES_HZ) - 1
        # Parseval for a real FFT: interior bins count twice.
        weights = np.full(len(freqs), 2.0)
        weights[0] = 1.0
        if frame_samples % 2 == 0:
            weights[-1] = 1.0
        self._weights = weights / (frame_samples * frame_samples)

    def __call__(self, samples: np.ndarray) -> np.ndarray:
        spectrum = np.fft.rfft(samples.astype(np.float64) / 32768.0)
        bin_power = (spectrum.real**2 + spectrum.imag**2) * self._weights
        return np.bincount(self._band_of_bin, bin_power, self._bands) + POWER_FLOOR / self._bands


class EchoLeakTracker:
    """Smoothed far-end-only statistics and the echo leak bound derived from them."""

    def __init__(self, time_constant_s: float, frame_s: float, initial_leak_db: float = 0.0,
                 deviations: float = 2.0, min_spread_db: float = 0.0,
                 bands: int = len(BAND_EDGES_HZ) - 1) -> None:
        self._alpha = math.exp(-frame_s / time_constant_s)
        self._mic = self._residual = self._far = 0.0
        self._leak_mean_db = np.full(bands, float(initial_leak_db))
        self._leak_spread_db = np.zeros(bands)
        self._deviations = deviations
        self._min_spread_db = min_spread_db
        self.updates = 0

    def update(self, far_bands: np.ndarray, cleaned_bands: np.ndarray, mic_power: float,
               residual_power: float) -> None:
        """Fold in one far-end-only frame (band powers of the recent far end and of the cleaned signal)."""
        a = self._alpha if self.updates else 0.0
        far_power = float(np.sum(far_bands))
        self._far = a * self._far + (1 - a) * far_power
        self._mic = a * self._mic + (1 - a) * mic_power
        self._residual = a * self._residual + (1 - a) * residual_power
        frame_leak_db = db(cleaned_bands / far_bands)
        self._leak_mean_db = a * self._leak_mean_db + (1 - a) * frame_leak_db
        deviation = np.abs(frame_leak_db - self._leak_mean_db)
        self._leak_spread_db = a * self._leak_spread_db + (1 - a) * deviation
        self.updates += 1

    @property
    def erle_db(self) -> float | None:
        """Linear canceller ERLE, decibels; None before any far-end-only frame."""
        return float(db(self._mic / self._residual)) if self.updates else None

    @property
    def echo_path_gain_db(self) -> float | None:
        return float(db(self._mic / self._far)) if self.updates else None

    @property
    def leak_bound_db(self) -> np.ndarray:
        """Per band: upper bound of cleaned power per unit of far-end power, decibels."""
        spread = np.maximum(self._leak_spread_db, self._min_spread_db)
        return self._leak_mean_db + self._deviations * spread

    def predicted_leak(self, far_bands: np.ndarray) -> float:
        """Power of the echo that may be left in the cleaned signal, given recent far-end band powers."""
        return float(np.sum(far_bands * 10 ** (self.leak_bound_db / 10.0)))
