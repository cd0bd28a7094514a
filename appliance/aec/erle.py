"""Run-time estimates of how much echo gets through: ERLE and the echo-leak ratio.

Updated only on far-end-only frames (the agent speaks, nobody else does), as
exponentially smoothed powers:

- `erle_db`: mic power over linear-canceller residual power (what speex
  achieves on its own);
- `leak_db`: how loud the cleaned signal gets per unit of recent far-end
  power, i.e. far-end energy x echo path gain / (ERLE x residual suppression).
  The per-frame ratio swings by several dB with the speech, so the tracker
  keeps its smoothed mean and mean absolute deviation (in dB) and predicts
  mean + `deviations` x MAD: an upper bound the echo rarely exceeds. The
  detector uses it to predict how loud the echo left in the cleaned signal
  can be right now.
"""

from __future__ import annotations

import math

import numpy as np

POWER_FLOOR = 1e-10  # normalised power (full scale = 1); below ~ -100 dBFS


def power(samples: np.ndarray) -> float:
    """Mean square of int16 samples, normalised to full scale = 1."""
    scaled = samples.astype(np.float64) / 32768.0
    return float(np.mean(scaled * scaled)) + POWER_FLOOR


def db(value: float) -> float:
    return 10.0 * math.log10(max(value, POWER_FLOOR))


class EchoLeakTracker:
    """Smoothed far-end-only powers and the ratios derived from them."""

    def __init__(self, time_constant_s: float, frame_s: float, initial_leak_db: float = 0.0,
                 deviations: float = 2.0) -> None:
        self._alpha = math.exp(-frame_s / time_constant_s)
        self._mic = self._residual = self._far = 0.0
        self._leak_mean_db, self._leak_spread_db = initial_leak_db, 0.0
        self._deviations = deviations
        self.updates = 0

    def update(self, far_power: float, mic_power: float, residual_power: float,
               cleaned_power: float) -> None:
        """Fold in one far-end-only frame."""
        a = self._alpha if self.updates else 0.0
        self._far = a * self._far + (1 - a) * far_power
        self._mic = a * self._mic + (1 - a) * mic_power
        self._residual = a * self._residual + (1 - a) * residual_power
        frame_leak_db = db(cleaned_power / far_power)
        self._leak_mean_db = a * self._leak_mean_db + (1 - a) * frame_leak_db
        deviation = abs(frame_leak_db - self._leak_mean_db)
        self._leak_spread_db = a * self._leak_spread_db + (1 - a) * deviation
        self.updates += 1

    @property
    def erle_db(self) -> float | None:
        """Linear canceller ERLE, decibels; None before any far-end-only frame."""
        return db(self._mic / self._residual) if self.updates else None

    @property
    def echo_path_gain_db(self) -> float | None:
        return db(self._mic / self._far) if self.updates else None

    @property
    def leak_db(self) -> float:
        """Upper estimate of cleaned power per unit of far-end power (the initial guess before any update)."""
        return self._leak_mean_db + self._deviations * self._leak_spread_db

    @property
    def leak_ratio(self) -> float:
        return 10 ** (self.leak_db / 10.0)
