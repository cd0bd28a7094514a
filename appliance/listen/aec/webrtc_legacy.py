"""WebRTC's legacy AEC (AEC2), an optional peer of speex, as an `EchoEngine`.

This is the canceller bookworm's PulseAudio and PipeWire echo-cancel modules
run: Debian's libwebrtc-audio-processing 0.3. Its API is C++ only, so
`make peers` compiles a small `extern "C"` shim (tools/peers/webrtc_legacy_shim.cpp,
g++, portable flags) into the virtual environment's `lib/` directory, and
this module reaches it through ctypes. Only the echo canceller runs (no
high-pass filter, noise suppression or gain control), with PulseAudio's
defaults: moderate suppression, no extended filter, no delay-agnostic mode.
The reference arrives delay-aligned, so the stream delay is 0. Its output is
already residual-suppressed, so `suppress` is the identity.
"""

from __future__ import annotations

import ctypes
import sys
from pathlib import Path

import numpy as np

from appliance.config import AecSettings
from appliance.errors import MissingDependencyError
from appliance.listen.aec.engine import PEERS_HINT, webrtc_frame_samples

SHIM_NAME = "libappliance_webrtc_legacy.so"
MODERATE_SUPPRESSION = 1

_INT16_P = ctypes.POINTER(ctypes.c_int16)
_library: ctypes.CDLL | None = None


def shim_path() -> Path:
    """Where `make peers` puts the shim: the running interpreter's environment."""
    return Path(sys.prefix) / "lib" / SHIM_NAME


def library() -> ctypes.CDLL:
    global _library
    if _library is None:
        path = shim_path()
        try:
            lib = ctypes.CDLL(str(path))
        except OSError as error:
            raise MissingDependencyError(
                f"{path}: the legacy WebRTC AEC shim is not built ({error}); {PEERS_HINT}"
            ) from None
        lib.webrtc_legacy_create.argtypes = [ctypes.c_int] * 4
        lib.webrtc_legacy_create.restype = ctypes.c_void_p
        lib.webrtc_legacy_render.argtypes = [ctypes.c_void_p, _INT16_P, ctypes.c_int, ctypes.c_int]
        lib.webrtc_legacy_render.restype = ctypes.c_int
        lib.webrtc_legacy_capture.argtypes = [ctypes.c_void_p, _INT16_P, _INT16_P, ctypes.c_int,
                                              ctypes.c_int, ctypes.c_int]
        lib.webrtc_legacy_capture.restype = ctypes.c_int
        lib.webrtc_legacy_destroy.argtypes = [ctypes.c_void_p]
        lib.webrtc_legacy_destroy.restype = None
        _library = lib
    return _library


class WebRtcLegacyEngine:
    linear_residual = False

    def __init__(self, settings: AecSettings, rate_hz: int) -> None:
        self._lib = library()
        self._rate_hz = rate_hz
        self.frame_samples = webrtc_frame_samples(settings, rate_hz)
        self._state = self._lib.webrtc_legacy_create(rate_hz, 0, 0, MODERATE_SUPPRESSION)
        if not self._state:
            raise MemoryError("webrtc_legacy_create failed")
        self._out = np.zeros(self.frame_samples, dtype=np.int16)

    def cancel(self, mic: np.ndarray, reference: np.ndarray) -> np.ndarray:
        if not self._state:
            raise ValueError("legacy AEC engine is closed")
        reference = np.ascontiguousarray(reference, dtype=np.int16)
        mic = np.ascontiguousarray(mic, dtype=np.int16)
        count = self.frame_samples
        if len(mic) != count or len(reference) != count:
            raise ValueError(f"expected {count}-sample frames, got {len(mic)} / {len(reference)}")
        status = self._lib.webrtc_legacy_render(self._state, reference.ctypes.data_as(_INT16_P), count,
                                                self._rate_hz)
        status = status or self._lib.webrtc_legacy_capture(
            self._state, mic.ctypes.data_as(_INT16_P), self._out.ctypes.data_as(_INT16_P), count,
            self._rate_hz, 0)
        if status != 0:
            raise RuntimeError(f"legacy WebRTC AEC refused a frame (error {status})")
        return self._out.copy()

    def suppress(self, residual: np.ndarray) -> np.ndarray:
        return residual.copy()

    def close(self) -> None:
        if self._state:
            self._lib.webrtc_legacy_destroy(self._state)
            self._state = None


def create(settings: AecSettings, rate_hz: int) -> WebRtcLegacyEngine:
    return WebRtcLegacyEngine(settings, rate_hz)
