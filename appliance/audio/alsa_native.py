"""libasound calls on a pyalsaaudio PCM that never hold Python's GIL while they wait.

pyalsaaudio 0.11 releases the GIL only around `read`, `write` and `drain`;
`avail`, `drop` and `close` call into alsa-lib with it held. With the ALSA
`pulse` plugin every one of those takes the stream's PulseAudio main-loop
lock, and when the sound server dies that main loop can deadlock inside
libpulse for good (measured: `pa_memimport_free` waiting on a semaphore
while holding the lock). A duplex loop that then asked `avail()` froze the
whole process, watchdog and conversation included, so nothing could notice
and reopen the card.

Here the same three calls go through ctypes, which releases the GIL for the
length of a foreign call: a deadlocked PCM then blocks only the thread that
asked. The `snd_pcm_t *` is read from the pyalsaaudio object, whose layout
(`PyObject_HEAD; long pcmtype; int pcmmode; char *cardname; snd_pcm_t
*handle`) is checked against what the object itself reports before it is
trusted; if it does not match (another pyalsaaudio), `native()` returns None
and the caller keeps pyalsaaudio's own methods.

A PCM whose close does not return in time is left behind on purpose: the
Python object is kept alive for the life of the process (freeing it would
call `snd_pcm_close` again, GIL held), and so are its PulseAudio threads.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import logging
import threading

log = logging.getLogger(__name__)

_STREAM_PLAYBACK, _STREAM_CAPTURE = 0, 1


class _PyAlsaPcm(ctypes.Structure):
    """The head of pyalsaaudio's `alsapcm_t` (0.10 and 0.11)."""

    _fields_ = [("ob_refcnt", ctypes.c_ssize_t), ("ob_type", ctypes.c_void_p),
                ("pcmtype", ctypes.c_long), ("pcmmode", ctypes.c_int),
                ("cardname", ctypes.c_char_p), ("handle", ctypes.c_void_p)]


def _libasound() -> ctypes.CDLL | None:
    name = ctypes.util.find_library("asound") or "libasound.so.2"
    try:
        lib = ctypes.CDLL(name)  # the copy pyalsaaudio already loaded
    except OSError:
        return None
    lib.snd_pcm_avail.restype = ctypes.c_long
    lib.snd_pcm_stream.restype = ctypes.c_int
    for function in (lib.snd_pcm_avail, lib.snd_pcm_drop, lib.snd_pcm_prepare,
                     lib.snd_pcm_close, lib.snd_pcm_stream):
        function.argtypes = [ctypes.c_void_p]
    return lib


_LIB = _libasound()
_LEFT_BEHIND: list[object] = []
"""PCMs whose close never returned: referenced here (and once more) so they are never freed."""


class NativePcm:
    """GIL-free `avail`, `drop` (and re-prepare) and bounded `close` of one pyalsaaudio PCM."""

    def __init__(self, pcm: object, view: _PyAlsaPcm) -> None:
        self._pcm = pcm
        self._view = view
        self._handle: int = view.handle

    def avail(self) -> int:
        """Frames the card can take (playback) or holds (capture); negative on an error."""
        return int(_LIB.snd_pcm_avail(self._handle))

    def drop(self) -> None:
        """Discard what the card holds, and prepare again, so that pyalsaaudio's next
        write does not prepare it itself (with the GIL held)."""
        _LIB.snd_pcm_drop(self._handle)
        _LIB.snd_pcm_prepare(self._handle)

    def close(self, timeout_s: float) -> bool:
        """Close within `timeout_s` (in a helper thread); False if it hung and was left behind."""
        closed = threading.Event()

        def close() -> None:
            _LIB.snd_pcm_close(self._handle)
            self._view.handle = None  # pyalsaaudio must not close (or free) it again
            closed.set()

        closer = threading.Thread(target=close, name="alsa-close", daemon=True)
        closer.start()
        if closed.wait(timeout_s):
            return True
        closer.name += " (given up)"  # runtime.shutdown does not wait for it
        _LEFT_BEHIND.append(self._pcm)
        ctypes.pythonapi.Py_IncRef(ctypes.py_object(self._pcm))  # never freed, even at exit
        log.error("an ALSA PCM did not close within %.1f s (its sound server is gone); "
                  "left behind (%d so far)", timeout_s, len(_LEFT_BEHIND))
        return False


def native(pcm: object, capture: bool) -> NativePcm | None:
    """The GIL-free view of `pcm`, or None if its layout is not the one expected."""
    if _LIB is None:
        return None
    view = _PyAlsaPcm.from_address(id(pcm))
    try:
        expected = pcm.cardname().encode()
    except Exception:  # noqa: BLE001 - any failure means: not the object we know
        return None
    if view.ob_type != id(type(pcm)) or view.cardname != expected or not view.handle:
        return None
    stream = _STREAM_CAPTURE if capture else _STREAM_PLAYBACK
    if _LIB.snd_pcm_stream(view.handle) != stream:
        return None
    return NativePcm(pcm, view)
