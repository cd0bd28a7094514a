"""The start-up calibration burst that pre-trains the echo canceller.

Speex needs a few seconds of far-end signal before its filter models the
room; without it the first barge-in after boot would face a loud residual.
The kiosk plays this burst once at boot: speech-shaped noise (pink, band
limited to the voice band) with a syllable-like envelope (80-300 ms bursts of
varying loudness, short gaps), so every filter tap is excited at a
comfortable level and the canceller, the loudspeaker's non-linearity and the
echo-leak statistics see the same level swings as real speech. (Steady noise
trained the tracker on a leak that hardly varies, and the first word after
it then looked louder than any echo could be.)
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
    noise = np.fft.irfft(spectrum * shape, count) * _syllable_envelope(count, rate_hz, seed)
    noise *= 10 ** (dbfs / 20.0) / max(float(np.sqrt(np.mean(noise**2))), 1e-12)
    fade = min(int(FADE_S * rate_hz), count // 2)
    ramp = np.linspace(0.0, 1.0, fade, endpoint=False)
    noise[:fade] *= ramp
    noise[count - fade:] *= ramp[::-1]
    return np.clip(np.round(noise * 32767.0), -32768, 32767).astype(np.int16)


def _syllable_envelope(count: int, rate_hz: int, seed: int) -> np.ndarray:
    """Gains of random syllables and gaps, smoothed over 10 ms so that nothing clicks."""
    rng = np.random.default_rng(seed + 1)
    gains, filled = [], 0
    while filled < count:
        syllable = int(rng.uniform(0.08, 0.3) * rate_hz)
        gap = int(rng.uniform(0.03, 0.15) * rate_hz)
        gains += [np.full(syllable, rng.uniform(0.25, 1.0)), np.full(gap, 0.02)]
        filled += syllable + gap
    envelope = np.concatenate(gains)[:count]
    smooth = max(1, rate_hz // 100)
    return np.convolve(envelope, np.ones(smooth) / smooth, mode="same")
