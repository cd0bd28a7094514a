"""Signal levels shared by the listening path, the simulator and the bench: one leaf module.

`power`/`db` measure one frame as the detector sees it (normalised to full
scale, floored at about -100 dBFS); `frame_rms_db`/`frame_peak_db` cut a whole
signal into 10 ms frames; `speech_span` finds where a recording's speech is.
They live here, below `listen/`, `runtime/` and `bench/`, so that none of
those has to import another for a helper.
"""

from __future__ import annotations

import numpy as np

from appliance.messages import SAMPLE_RATE_HZ

POWER_FLOOR = 1e-10  # normalised power (full scale = 1); below ~ -100 dBFS
FRAME = SAMPLE_RATE_HZ // 100          # 10 ms
ONSET_WITHIN_DB = 30.0
"""A 10 ms frame this close to a recording's loudest one counts as its speech."""


def power(samples: np.ndarray) -> float:
    """Mean square of int16 samples, normalised to full scale = 1."""
    scaled = samples.astype(np.float64) / 32768.0
    return float(np.mean(scaled * scaled)) + POWER_FLOOR


def db(value: float | np.ndarray) -> float | np.ndarray:
    return 10.0 * np.log10(np.maximum(value, POWER_FLOOR))


def ten_ms_frames(signal: np.ndarray) -> np.ndarray:
    """10 ms frames as float64 (int16 squared would wrap around)."""
    count = len(signal) // FRAME
    return signal[: count * FRAME].astype(np.float64).reshape(count, FRAME)


def frame_rms_db(signal: np.ndarray) -> np.ndarray:
    return 10 * np.log10(np.mean(ten_ms_frames(signal) ** 2, axis=1) + 1e-12)


def frame_peak_db(signal: np.ndarray) -> np.ndarray:
    return 20 * np.log10(np.max(np.abs(ten_ms_frames(signal)), axis=1) + 1e-9)


def speech_span(caller: np.ndarray) -> tuple[int, int]:
    """Start of the first and end of the last 10 ms frame within 30 dB of the loudest frame."""
    rms = frame_rms_db(caller)
    if len(rms) == 0:
        return 0, 0
    loud = np.flatnonzero(rms >= rms.max() - ONSET_WITHIN_DB)
    return int(loud[0]) * FRAME, (int(loud[-1]) + 1) * FRAME
