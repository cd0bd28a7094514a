"""The canceller: reference delay alignment, re-alignment after an xrun, pre-training burst, ERLE."""

from __future__ import annotations

import numpy as np
import pytest

from appliance.config import AecSettings
from appliance.levels import power
from appliance.listen.aec.calibration import calibration_burst
from appliance.listen.aec.canceller import EchoCanceller, ReferenceDelayLine
from appliance.listen.aec.erle import BandSplitter, EchoLeakTracker

PERIOD = 160


def test_delay_line_delays_by_its_fill_and_realigns():
    line = ReferenceDelayLine()
    line.realign(200)
    played = np.arange(1, 481, dtype=np.int16)
    out = np.concatenate([line.exchange(played[i:i + PERIOD]) for i in range(0, 480, PERIOD)])
    assert np.array_equal(out[:200], np.zeros(200, np.int16))
    assert np.array_equal(out[200:], played[:280])
    line.realign(50)
    assert np.array_equal(line.exchange(played[:PERIOD])[:50], np.zeros(50, np.int16))
    assert line.delay_samples == 50


def _run(canceller: EchoCanceller, far: np.ndarray, mic: np.ndarray, delay: int) -> np.ndarray:
    out = [canceller.process(mic[i:i + PERIOD], far[i:i + PERIOD], delay).residual
           for i in range(0, len(far) - PERIOD + 1, PERIOD)]
    return np.concatenate(out)


def _erle(mic: np.ndarray, residual: np.ndarray, seconds: slice) -> float:
    m, r = mic[seconds].astype(float), residual[seconds].astype(float)
    return 10 * np.log10(np.mean(m**2) / np.mean(r**2))


def test_device_delay_beyond_the_filter_is_cancelled_through_alignment():
    # 300 ms of buffer delay is far beyond the 128 ms filter: only alignment makes it work.
    far = calibration_burst(5.0, -20.0)
    device_delay = 4800
    mic = np.zeros_like(far)
    mic[device_delay + 48:] = (far[: -(device_delay + 48)] * 0.7).astype(np.int16)
    with EchoCanceller(AecSettings()) as aligned:
        residual = _run(aligned, far, mic, device_delay)
    with EchoCanceller(AecSettings()) as unaligned:
        unaligned_residual = _run(unaligned, far, mic, 0)
    last = slice(4 * 16000, 5 * 16000 - PERIOD)
    assert _erle(mic, residual, last) > 25.0
    assert _erle(mic, unaligned_residual, last) < 3.0


def test_period_must_be_whole_frames():
    with EchoCanceller(AecSettings()) as canceller, pytest.raises(ValueError, match="multiple"):
        canceller.process(np.zeros(100, np.int16), np.zeros(100, np.int16), 0)


def test_calibration_burst_is_deterministic_at_the_requested_level():
    burst = calibration_burst(2.0, -20.0, seed=3)
    assert len(burst) == 32000 and burst.dtype == np.int16
    assert np.array_equal(burst, calibration_burst(2.0, -20.0, seed=3))
    rms_db = 10 * np.log10(power(burst))
    assert -21.5 < rms_db < -19.0


def test_leak_tracker_follows_the_measured_powers_per_band():
    tracker = EchoLeakTracker(time_constant_s=0.5, frame_s=0.01, initial_leak_db=0.0, deviations=0.0)
    far = np.array([1e-3, 1e-4, 1e-5, 1e-6])
    assert tracker.erle_db is None
    assert tracker.predicted_leak(far) == pytest.approx(far.sum())  # pessimistic before any update
    for _ in range(300):
        tracker.update(far, cleaned_bands=far * np.array([1e-4, 1e-3, 1e-2, 1e-1]),
                       mic_power=1e-3, residual_power=1e-6)
    assert tracker.erle_db == pytest.approx(30.0, abs=0.1)
    assert tracker.leak_bound_db == pytest.approx([-40, -30, -20, -10], abs=0.1)
    assert tracker.predicted_leak(far) == pytest.approx(4e-7, rel=0.01)


def test_leak_bound_widens_with_the_spread_of_the_leak():
    steady = EchoLeakTracker(0.5, 0.01, deviations=2.0, bands=1)
    swinging = EchoLeakTracker(0.5, 0.01, deviations=2.0, bands=1)
    far = np.array([1e-3])
    for index in range(400):
        steady.update(far, far * 1e-3, 1e-3, 1e-6)
        swinging.update(far, far * (1e-2 if index % 2 else 1e-4), 1e-3, 1e-6)
    assert steady.leak_bound_db[0] == pytest.approx(-30.0, abs=0.2)
    assert swinging.leak_bound_db[0] > -30.0 + 2 * 8.0  # mean -30 dB, MAD about 10 dB


def test_band_powers_add_up_to_the_frame_power():
    splitter = BandSplitter(160)
    frame = (np.random.default_rng(2).standard_normal(160) * 3000).astype(np.int16)
    bands = splitter(frame)
    assert len(bands) == 4
    assert bands.sum() == pytest.approx(power(frame), rel=1e-6)
    low_tone = (np.sin(2 * np.pi * 200 * np.arange(160) / 16000) * 8000).astype(np.int16)
    assert np.argmax(splitter(low_tone)) == 0
