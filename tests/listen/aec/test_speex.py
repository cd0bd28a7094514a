"""The ctypes layer over libspeexdsp: creation, echo state, processing, freeing."""

from __future__ import annotations

import numpy as np
import pytest

from appliance.listen.aec import speex
from appliance.listen.aec.speex import SpeexEcho, SpeexPreprocessor

FRAME = 160


def _echo_pair(seconds: float, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    far = (rng.standard_normal(int(seconds * 16000)) * 3000).astype(np.int16)
    mic = np.zeros_like(far)
    mic[40:] = (far[:-40] * 0.5).astype(np.int16)  # 2.5 ms acoustic delay, -6 dB
    return far, mic


def test_echo_canceller_removes_a_linear_echo():
    far, mic = _echo_pair(4.0)
    with SpeexEcho(FRAME, 2048, 16000) as echo:
        out = np.concatenate([echo.cancel(mic[i:i + FRAME], far[i:i + FRAME])
                              for i in range(0, len(far), FRAME)])
    tail = slice(3 * 16000, 4 * 16000)
    erle = 10 * np.log10(np.mean(mic[tail].astype(float) ** 2) / np.mean(out[tail].astype(float) ** 2))
    assert erle > 25.0


def test_preprocessor_with_echo_state_processes_without_touching_its_input():
    far, mic = _echo_pair(1.0)
    with SpeexEcho(FRAME, 1024, 16000) as echo, SpeexPreprocessor(FRAME, 16000) as pre:
        pre.set_echo_state(echo, -40, -15)
        for i in range(0, len(far), FRAME):
            residual = echo.cancel(mic[i:i + FRAME], far[i:i + FRAME])
            before = residual.copy()
            cleaned = pre.process(residual)
            assert cleaned.dtype == np.int16 and cleaned.shape == (FRAME,)
            assert np.array_equal(residual, before)
        pre.set_echo_state(None)


def test_wrong_frame_size_is_refused():
    with SpeexEcho(FRAME, 1024, 16000) as echo:
        with pytest.raises(ValueError, match="expected 160 samples"):
            echo.cancel(np.zeros(100, np.int16), np.zeros(100, np.int16))


def test_close_is_safe_twice_and_closed_state_is_refused():
    echo, pre = SpeexEcho(FRAME, 1024, 16000), SpeexPreprocessor(FRAME, 16000)
    pre.close()
    pre.close()
    echo.close()
    echo.close()
    with pytest.raises(ValueError, match="closed"):
        echo.cancel(np.zeros(FRAME, np.int16), np.zeros(FRAME, np.int16))
    with pytest.raises(ValueError, match="closed"):
        pre.process(np.zeros(FRAME, np.int16))


class _CountingLibrary:
    """Wraps the real library and counts state creations and destructions."""

    def __init__(self, real) -> None:
        self._real = real
        self.created = 0
        self.freed = 0

    def __getattr__(self, name):
        function = getattr(self._real, name)
        if name.endswith("_state_init"):
            def counted(*args):
                self.created += 1
                return function(*args)
            return counted
        if name.endswith("_state_destroy"):
            def counted_free(*args):
                self.freed += 1
                return function(*args)
            return counted_free
        return function


def _rss_kib() -> int:
    with open("/proc/self/statm") as handle:
        return int(handle.read().split()[1]) * 4


def test_no_leak_over_10000_frames(monkeypatch):
    counting = _CountingLibrary(speex.library())
    monkeypatch.setattr(speex, "library", lambda: counting)
    frame = (np.random.default_rng(1).standard_normal(FRAME) * 1000).astype(np.int16)
    rss_after_warmup = 0
    echo, pre = SpeexEcho(FRAME, 2048, 16000), SpeexPreprocessor(FRAME, 16000)
    for index in range(10_000):
        if index and index % 100 == 0:  # a fresh pair every 100 frames: 100 pairs in all
            pre.close()
            echo.close()
            echo, pre = SpeexEcho(FRAME, 2048, 16000), SpeexPreprocessor(FRAME, 16000)
        if index % 100 == 0:
            pre.set_echo_state(echo)
        pre.process(echo.cancel(frame, frame))
        if index == 1000:
            rss_after_warmup = _rss_kib()
    pre.close()
    echo.close()
    assert counting.created == counting.freed == 200
    assert _rss_kib() - rss_after_warmup < 2048  # 90 more state pairs, ~100 KiB each if leaked


def _level_change_db(pre: SpeexPreprocessor, signal: np.ndarray) -> float:
    out = np.concatenate([pre.process(signal[i:i + FRAME]) for i in range(0, len(signal), FRAME)])
    tail = slice(len(signal) // 2, len(signal))
    return 10 * np.log10(np.mean(out[tail].astype(float) ** 2) / np.mean(signal[tail].astype(float) ** 2))


def test_preprocessor_gain_is_applied_but_noise_is_left_alone_by_default():
    # speex applies its suppression gain (echo included) only with denoise on;
    # a noise floor of 0 dB must then leave steady noise untouched.
    noise = (np.random.default_rng(3).standard_normal(3 * 16000) * 1000).astype(np.int16)
    with SpeexPreprocessor(FRAME, 16000) as untouched, \
            SpeexPreprocessor(FRAME, 16000, noise_suppress_db=-30) as suppressing:
        assert abs(_level_change_db(untouched, noise)) < 1.5
        assert _level_change_db(suppressing, noise) < -15.0
