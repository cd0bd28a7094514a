"""The start-up calibration burst that pre-trains the echo canceller.

Speex needs a few seconds of far-end signal before its filter models the
room; without it the first barge-in after boot would face a loud residual.
The kiosk plays this burst once at boot: speech-shaped noise (pink, band
limited to the voice band) with short fades, so every filter tap is excited
at a comfortable level.
"""

from __future__ import annotations

import numpy as np

from appliance.messages import SAMPLE_RATE_HZ

FADE_S = 0.05
VOICE_BAND_HZ = (100.0, 8000.0)


def calibration_burst(seconds: float, dbfs: float, rate_hz: int = SAMPLE_RATE_HZ,
                      seed: int = 0) -> np.ndarray:
    """Deterministic speech-shaped noise of `seconds` at an RMS of `dbfs`, int16."""
    count = int(round(seconds * rate_hz))
    if count == 0:
        return np.zeros(0, dtype=np.int16)
    spectrum = np.fft.rfft(np.random.default_rng(seed).standard_normal(count))
    freqs = np.fft.rfftfreq(count, 1.0 / rate_hz)
    low, high = VOICE_BAND_HZ
    shape = np.where((freqs >= low) & (freqs <= high), 1.0 / np.sqrt(np.maximum(freqs, low)), 0.0)
    noise = np.fft.irfft(spectrum * shape, count)
    noise *= 10 ** (dbfs / 20.0) / max(float(np.sqrt(np.mean(noise**2))), 1e-12)
    fade = min(int(FADE_S * rate_hz), count // 2)
    ramp = np.linspace(0.0, 1.0, fade, endpoint=False)
    noise[:fade] *= ramp
    noise[count - fade:] *= ramp[::-1]
    return np.clip(np.round(noise * 32767.0), -32768, 32767).astype(np.int16)
