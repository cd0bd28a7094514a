"""A small ctypes layer over libspeexdsp: the echo canceller, the preprocessor, the engine.

The `speexdsp` Python binding hides its echo state, and the preprocessor needs
that state (`SPEEX_PREPROCESS_SET_ECHO_STATE`) to suppress the residual echo a
linear filter leaves behind (clipping loudspeakers). So both are owned here.
Every state is created once, processes int16 frames in place, and is freed by
`close()`, which is safe to call twice.
"""

from __future__ import annotations

import ctypes
import ctypes.util

import numpy as np

from appliance.config import AecSettings
from appliance.errors import MissingDependencyError
from appliance.messages import samples_for_ms

# From /usr/include/speex/speex_echo.h and speex_preprocess.h.
SPEEX_ECHO_SET_SAMPLING_RATE = 24
SPEEX_PREPROCESS_SET_DENOISE = 0
SPEEX_PREPROCESS_SET_AGC = 2
SPEEX_PREPROCESS_SET_DEREVERB = 8
SPEEX_PREPROCESS_SET_NOISE_SUPPRESS = 18
SPEEX_PREPROCESS_SET_ECHO_SUPPRESS = 20
SPEEX_PREPROCESS_SET_ECHO_SUPPRESS_ACTIVE = 22
SPEEX_PREPROCESS_SET_ECHO_STATE = 24

_INT16_P = ctypes.POINTER(ctypes.c_int16)
_library: ctypes.CDLL | None = None


def library() -> ctypes.CDLL:
    """libspeexdsp with its prototypes declared, loaded once."""
    global _library
    if _library is None:
        name = ctypes.util.find_library("speexdsp") or "libspeexdsp.so.1"
        try:
            lib = ctypes.CDLL(name)
        except OSError:
            raise MissingDependencyError(
                f"{name}: libspeexdsp not found; install it (Debian: apt install libspeexdsp1)"
            ) from None
        _declare(lib)
        _library = lib
    return _library


def _declare(lib: ctypes.CDLL) -> None:
    void_p = ctypes.c_void_p
    lib.speex_echo_state_init.argtypes = [ctypes.c_int, ctypes.c_int]
    lib.speex_echo_state_init.restype = void_p
    lib.speex_echo_state_destroy.argtypes = [void_p]
    lib.speex_echo_state_destroy.restype = None
    lib.speex_echo_state_reset.argtypes = [void_p]
    lib.speex_echo_state_reset.restype = None
    lib.speex_echo_cancellation.argtypes = [void_p, _INT16_P, _INT16_P, _INT16_P]
    lib.speex_echo_cancellation.restype = None
    lib.speex_echo_ctl.argtypes = [void_p, ctypes.c_int, void_p]
    lib.speex_echo_ctl.restype = ctypes.c_int
    lib.speex_preprocess_state_init.argtypes = [ctypes.c_int, ctypes.c_int]
    lib.speex_preprocess_state_init.restype = void_p
    lib.speex_preprocess_state_destroy.argtypes = [void_p]
    lib.speex_preprocess_state_destroy.restype = None
    lib.speex_preprocess_run.argtypes = [void_p, _INT16_P]
    lib.speex_preprocess_run.restype = ctypes.c_int
    lib.speex_preprocess_ctl.argtypes = [void_p, ctypes.c_int, void_p]
    lib.speex_preprocess_ctl.restype = ctypes.c_int


def _int16_pointer(samples: np.ndarray) -> ctypes._Pointer:
    return samples.ctypes.data_as(_INT16_P)


def _checked_frame(samples: np.ndarray, frame_samples: int, what: str) -> np.ndarray:
    frame = np.ascontiguousarray(samples, dtype=np.int16)
    if frame.shape != (frame_samples,):
        raise ValueError(f"{what}: expected {frame_samples} samples, got {frame.shape}")
    return frame


class SpeexEcho:
    """One speex echo canceller state (`SpeexEchoState*`)."""

    def __init__(self, frame_samples: int, filter_samples: int, rate_hz: int) -> None:
        self._lib = library()
        self.frame_samples = frame_samples
        self._state = self._lib.speex_echo_state_init(frame_samples, filter_samples)
        if not self._state:
            raise MemoryError("speex_echo_state_init failed")
        rate = ctypes.c_int(rate_hz)
        self._lib.speex_echo_ctl(self._state, SPEEX_ECHO_SET_SAMPLING_RATE, ctypes.byref(rate))
        self._out = np.zeros(frame_samples, dtype=np.int16)

    @property
    def handle(self) -> int:
        """The raw state pointer, for the preprocessor's echo state."""
        if not self._state:
            raise ValueError("echo state is closed")
        return self._state

    def cancel(self, mic: np.ndarray, reference: np.ndarray) -> np.ndarray:
        """Mic minus the estimated echo of `reference` (already delay-aligned); a new array."""
        mic = _checked_frame(mic, self.frame_samples, "mic")
        reference = _checked_frame(reference, self.frame_samples, "reference")
        self._lib.speex_echo_cancellation(
            self.handle, _int16_pointer(mic), _int16_pointer(reference), _int16_pointer(self._out)
        )
        return self._out.copy()

    def reset(self) -> None:
        """Forget the adapted filter (only for tests and a changed echo path)."""
        self._lib.speex_echo_state_reset(self.handle)

    def close(self) -> None:
        if self._state:
            self._lib.speex_echo_state_destroy(self._state)
            self._state = None

    def __enter__(self) -> SpeexEcho:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()


class SpeexPreprocessor:
    """One speex preprocessor state; with an echo state it suppresses residual echo.

    The suppression gain is only applied when "denoise" is on (preprocess.c:
    "If noise suppression is off, don't apply the gain"), so denoise is on,
    but its noise floor is `noise_suppress_db` (0 = noise untouched): the gain
    floor then only falls where the residual echo dominates. AGC and dereverb
    are off: the detector needs the residual's true level.
    """

    def __init__(self, frame_samples: int, rate_hz: int, noise_suppress_db: int = 0) -> None:
        self._lib = library()
        self.frame_samples = frame_samples
        self._state = self._lib.speex_preprocess_state_init(frame_samples, rate_hz)
        if not self._state:
            raise MemoryError("speex_preprocess_state_init failed")
        # The speex VAD stays at its default (off): it prints a warning when touched.
        self._set_int(SPEEX_PREPROCESS_SET_AGC, 0)
        self._set_int(SPEEX_PREPROCESS_SET_DEREVERB, 0)
        self._set_int(SPEEX_PREPROCESS_SET_DENOISE, 1)
        self._set_int(SPEEX_PREPROCESS_SET_NOISE_SUPPRESS, noise_suppress_db)
        self._echo: SpeexEcho | None = None

    def _set_int(self, request: int, value: int) -> None:
        number = ctypes.c_int(value)
        if self._lib.speex_preprocess_ctl(self.handle, request, ctypes.byref(number)) != 0:
            raise ValueError(f"speex_preprocess_ctl({request}, {value}) refused")

    @property
    def handle(self) -> int:
        if not self._state:
            raise ValueError("preprocessor state is closed")
        return self._state

    def set_echo_state(self, echo: SpeexEcho | None, suppress_db: int = -40,
                       suppress_active_db: int = -15) -> None:
        """Attach (or detach with None) the canceller whose residual echo is suppressed."""
        pointer = ctypes.c_void_p(echo.handle if echo is not None else None)
        if self._lib.speex_preprocess_ctl(self.handle, SPEEX_PREPROCESS_SET_ECHO_STATE, pointer) != 0:
            raise ValueError("speex_preprocess_ctl(SET_ECHO_STATE) refused")
        self._echo = echo  # keeps the echo state alive while it is referenced
        if echo is not None:
            self._set_int(SPEEX_PREPROCESS_SET_ECHO_SUPPRESS, suppress_db)
            self._set_int(SPEEX_PREPROCESS_SET_ECHO_SUPPRESS_ACTIVE, suppress_active_db)

    def process(self, frame: np.ndarray) -> np.ndarray:
        """The suppressed frame (a new array); the input is not modified."""
        work = _checked_frame(frame, self.frame_samples, "frame").copy()
        self._lib.speex_preprocess_run(self.handle, _int16_pointer(work))
        return work

    def close(self) -> None:
        if self._state:
            self._lib.speex_preprocess_state_destroy(self._state)
            self._state = None
        self._echo = None

    def __enter__(self) -> SpeexPreprocessor:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()


class SpeexEngine:
    """The kiosk's default `EchoEngine`: speex's adaptive filter, then (optionally) the
    preprocessor's residual echo suppression driven by the same echo state."""

    linear_residual = True

    def __init__(self, settings: AecSettings, rate_hz: int) -> None:
        self.frame_samples = samples_for_ms(settings.frame_ms, rate_hz)
        self._echo = SpeexEcho(self.frame_samples, samples_for_ms(settings.filter_ms, rate_hz), rate_hz)
        self._suppressor: SpeexPreprocessor | None = None
        if settings.residual_suppression:
            self._suppressor = SpeexPreprocessor(self.frame_samples, rate_hz, settings.noise_suppress_db)
            self._suppressor.set_echo_state(self._echo, settings.echo_suppress_db,
                                            settings.echo_suppress_active_db)

    def cancel(self, mic: np.ndarray, reference: np.ndarray) -> np.ndarray:
        return self._echo.cancel(mic, reference)

    def suppress(self, residual: np.ndarray) -> np.ndarray:
        return residual.copy() if self._suppressor is None else self._suppressor.process(residual)

    def close(self) -> None:
        if self._suppressor is not None:
            self._suppressor.close()
            self._suppressor = None
        self._echo.close()


def create(settings: AecSettings, rate_hz: int) -> SpeexEngine:
    return SpeexEngine(settings, rate_hz)
