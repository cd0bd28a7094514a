"""The real sound card through pyalsaaudio: one capture and one playback PCM.

The only module that imports `alsaaudio`. It asks the card for `period_ms`
periods and `periods` of them, reads back what the driver granted, and
converts between the card's rate, sample format and channel count and the
internal 16 kHz mono int16 with python-soxr streaming resamplers.

Start-up order matters for a stable echo delay: the first capture read starts
the capture stream (PulseAudio can take a second or two to deliver it), and
only then is the playback buffer pre-filled with `periods - 1` periods of
silence. From then on every `exchange()` reads one period and writes one, so
the buffer fill, and with it the playback-to-capture delay, stays constant.

pyalsaaudio 0.11 reports an xrun as a negative return value (-EPIPE) and
re-prepares the PCM itself on the next call; we count it, log it, refill the
playback buffer to its target depth, and the duplex loop tells the echo
canceller that alignment changed (the `xruns` counter moved).

`avail`, `drop` and `close` go through `alsa_native` (GIL released): with the
`pulse` plugin a dead sound server can deadlock them, and pyalsaaudio's own
would then freeze the whole process instead of the loop thread alone. A
close that hangs is given up after `CLOSE_TIMEOUT_S` and the PCM left behind,
so the card can be reopened.
"""

from __future__ import annotations

import contextlib
import errno
import logging
import os
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass

import alsaaudio
import numpy as np
import soxr

from appliance.audio.alsa_native import native
from appliance.audio.device import AudioDevice
from appliance.audiofile import to_int16
from appliance.config import AudioSettings
from appliance.errors import AudioDeviceError
from appliance.messages import SAMPLE_RATE_HZ, samples_for_ms

log = logging.getLogger(__name__)

CLOSE_TIMEOUT_S = 1.0
"""How long closing a PCM may take before it is left behind (its server is gone), seconds."""

# Card sample formats we convert: ALSA constant, numpy container, full scale.
_FORMATS = {
    "S16_LE": (alsaaudio.PCM_FORMAT_S16_LE, np.int16, 2.0**15),
    "S32_LE": (alsaaudio.PCM_FORMAT_S32_LE, np.int32, 2.0**31),
}
# pyalsaaudio 0.11 sizes a frame from the significant bits (3 bytes for S24_LE)
# although S24_LE samples sit in 4-byte containers, so it garbles that format.
_UNUSABLE_FORMATS = {
    "S24_LE": "pyalsaaudio 0.11 miscounts its 4-byte frames; use S32_LE (plughw: converts)",
}


@dataclass(frozen=True)
class Granted:
    """What the driver granted for one PCM (read back with `info()`)."""

    format: str
    rate_hz: int
    channels: int
    period_frames: int
    periods: int

    @property
    def buffer_frames(self) -> int:
        return self.period_frames * self.periods

    def describe(self) -> str:
        return (f"{self.format} {self.rate_hz} Hz {self.channels} ch, "
                f"{self.periods} periods of {self.period_frames} frames")


@contextlib.contextmanager
def _alsa_diagnostics_captured() -> Iterator[None]:
    """Keep alsa-lib's own stderr lines ("ALSA lib pcm.c:...") out of the
    terminal while a PCM is opened: the user gets our one-line error instead.
    They are replayed at debug level, so nothing is lost."""
    with tempfile.TemporaryFile() as sink:
        saved = os.dup(2)
        os.dup2(sink.fileno(), 2)
        try:
            yield
        finally:
            os.dup2(saved, 2)
            os.close(saved)
            sink.seek(0)
            for line in sink.read().decode(errors="replace").splitlines():
                log.debug("alsa-lib: %s", line)


class _Pcm:
    """One opened PCM with its granted parameters and its soxr stream."""

    def __init__(self, settings: AudioSettings, kind: str) -> None:
        self.kind = kind
        self.capture = kind == "capture"
        self.name = settings.capture_device if self.capture else settings.playback_device
        self.key = f"audio.{kind}_device"
        self.pcm_type = alsaaudio.PCM_CAPTURE if self.capture else alsaaudio.PCM_PLAYBACK
        if settings.card_format in _UNUSABLE_FORMATS:
            raise AudioDeviceError(f"audio.card_format: {settings.card_format} cannot be used: "
                                   f"{_UNUSABLE_FORMATS[settings.card_format]}")
        alsa_format, self.dtype, self.full_scale = _FORMATS[settings.card_format]
        asked_channels = settings.capture_channels if self.capture else settings.playback_channels
        self.asked = Granted(settings.card_format, settings.card_rate_hz, asked_channels,
                             samples_for_ms(settings.period_ms, settings.card_rate_hz),
                             settings.periods)
        self.native = None
        self.pcm = self._construct(alsa_format)
        self.granted = self._read_back()
        self.native = native(self.pcm, self.capture)
        if self.native is None:
            log.warning("%s %s: libasound not reachable through ctypes; a sound server that "
                        "dies may freeze the process", kind, self.name)
        log.info("%s %s: asked %s; granted %s", kind, self.name, self.asked.describe(),
                 self.granted.describe())
        in_rate, out_rate = ((self.granted.rate_hz, SAMPLE_RATE_HZ) if self.capture
                             else (SAMPLE_RATE_HZ, self.granted.rate_hz))
        self.resampler = soxr.ResampleStream(in_rate, out_rate, 1, dtype="float32")

    def _construct(self, alsa_format: int) -> alsaaudio.PCM:
        asked = self.asked
        try:
            with _alsa_diagnostics_captured():
                return alsaaudio.PCM(
                    self.pcm_type, alsaaudio.PCM_NORMAL, device=self.name, rate=asked.rate_hz,
                    channels=asked.channels, format=alsa_format,
                    periodsize=asked.period_frames, periods=asked.periods)
        except alsaaudio.ALSAAudioError as error:
            if os.strerror(errno.ENOENT) in str(error) or "Unknown PCM" in str(error):
                available = ", ".join(alsaaudio.pcms(self.pcm_type)) or "none"
                raise AudioDeviceError(
                    f"{self.key}: no {self.kind} PCM named {self.name!r} ({error}); "
                    f"PCMs that exist: {available}") from None
            raise AudioDeviceError(
                f"{self.key}: {self.name!r} refused {asked.format} at {asked.rate_hz} Hz "
                f"with {asked.channels} channels ({error}); {self._probe_offers()}") from None

    def _read_back(self) -> Granted:
        info = self.pcm.info()
        granted = Granted(info["format_name"], int(info["rate"]), int(info["channels"]),
                          int(info["period_size"]), int(info["periods"]))
        if granted.format != self.asked.format or granted.rate_hz != self.asked.rate_hz:
            offers = self._offers(self.pcm)
            self.close()
            raise AudioDeviceError(
                f"{self.key}: {self.name!r} refused {self.asked.format} at "
                f"{self.asked.rate_hz} Hz (it granted {granted.format} at {granted.rate_hz} Hz); "
                f"{offers} (set audio.card_format / audio.card_rate_hz)")
        return granted

    @staticmethod
    def _offers(pcm: alsaaudio.PCM) -> str:
        low, high = pcm.getratebounds()
        rates = f"{low} Hz" if low == high else f"{low}-{high} Hz"
        return f"the card offers formats {', '.join(pcm.getformats())} at {rates}"

    def _probe_offers(self) -> str:
        """Open the PCM with common parameters just to ask what it offers."""
        for rate in (48000, 44100, 16000):
            for alsa_format, _dtype, _scale in _FORMATS.values():
                try:
                    with _alsa_diagnostics_captured():
                        probe = alsaaudio.PCM(self.pcm_type, alsaaudio.PCM_NORMAL,
                                              device=self.name, rate=rate, channels=2,
                                              format=alsa_format, periodsize=1024, periods=2)
                except alsaaudio.ALSAAudioError:
                    continue
                offers = self._offers(probe)
                probe.close()
                return offers
        return "it accepted none of S16_LE/S32_LE at 48000/44100/16000 Hz either"

    def to_internal(self, data: bytes) -> np.ndarray:
        """Card bytes to float 16 kHz mono (channel 0), via the soxr stream."""
        frames = np.frombuffer(data, dtype=self.dtype).reshape(-1, self.granted.channels)
        mono = frames[:, 0].astype(np.float32) / np.float32(self.full_scale)
        return self.resampler.resample_chunk(mono)

    def to_card(self, samples: np.ndarray) -> bytes:
        """16 kHz int16 to card bytes: resampled, same signal on every channel."""
        card = self.resampler.resample_chunk(samples.astype(np.float32) / np.float32(32768.0))
        scaled = np.clip(np.round(card.astype(np.float64) * self.full_scale),
                         -self.full_scale, self.full_scale - 1).astype(self.dtype)
        return np.repeat(scaled, self.granted.channels).tobytes()

    def silence(self, periods: int) -> bytes:
        frames = periods * self.granted.period_frames * self.granted.channels
        return np.zeros(frames, dtype=self.dtype).tobytes()

    def reset_resampler(self) -> None:
        self.resampler.clear()

    def avail(self) -> int:
        return self.native.avail() if self.native is not None else self.pcm.avail()

    def drop(self) -> None:
        if self.native is not None:
            self.native.drop()
        else:
            self.pcm.drop()

    def close(self) -> None:
        if self.pcm is None:
            return
        if not self.capture:
            self.drop()  # close() would otherwise drain what is queued
        if self.native is not None:
            self.native.close(CLOSE_TIMEOUT_S)
        else:
            self.pcm.close()
        self.pcm = None


class AlsaDevice(AudioDevice):
    """Capture and playback PCMs on one card, seen at 16 kHz mono int16.

    `capture=False` opens the speaker only (`appliance say`): the capture
    device is never touched, `exchange()` returns silence, and the blocking
    playback write paces the loop once the card's buffer is full.
    """

    def __init__(self, settings: AudioSettings, capture: bool = True) -> None:
        self.settings = settings
        self._with_capture = capture
        self._period = samples_for_ms(settings.period_ms)
        self._capture: _Pcm | None = None
        self._playback: _Pcm | None = None
        self._captured = np.zeros(0, dtype=np.float32)
        self._started = False
        self._refill = False
        self._xruns = 0
        self._delay = 0
        self._queued = 0
        self._granted: dict[str, Granted] = {}

    @property
    def period_samples(self) -> int:
        return self._period

    @property
    def output_delay_samples(self) -> int:
        return self._delay

    @property
    def playback_queued_samples(self) -> int:
        return self._queued

    @property
    def xruns(self) -> int:
        return self._xruns

    @property
    def granted(self) -> dict[str, Granted]:
        """Asked and granted parameters of both PCMs, from the last open()."""
        return dict(self._granted)

    def open(self) -> None:
        if self._playback is not None:
            return
        capture = _Pcm(self.settings, "capture") if self._with_capture else None
        try:
            self._playback = _Pcm(self.settings, "playback")
        except BaseException:
            if capture is not None:
                capture.close()
            raise
        self._capture = capture
        self._granted = {"playback_asked": self._playback.asked,
                         "playback_granted": self._playback.granted}
        if capture is not None:
            self._granted |= {"capture_asked": capture.asked, "capture_granted": capture.granted}

    def _start(self) -> None:
        """Reopen capture, first read (starts the stream), then pre-fill the playback buffer.

        A sound server (PulseAudio's `pulse` plugin) records from the moment
        the PCM is opened and keeps what the client has not read yet on the
        server, out of avail()'s sight. The kiosk opens the card before it
        loads its models, so that backlog (seconds) would delay every captured
        period for good; a capture stream that starts with the loop has none.
        """
        if self._with_capture:
            self._capture.close()
            self._capture = _Pcm(self.settings, "capture")
            self._read_capture_period()
        self._write(self._playback.silence(self._playback.granted.periods - 1))
        self._started = True

    def exchange(self, playback: np.ndarray) -> np.ndarray:
        if self._playback is None or (self._with_capture and self._capture is None):
            raise AudioDeviceError("audio device used before open() or after close()")
        if not self._started:
            self._start()
        refill, self._refill = self._refill, False
        if refill:
            # Just after a drop the card is empty: write at once (a capture read
            # first would leave a gap), silence behind restores the buffer depth.
            self._write(self._playback.to_card(playback))
            self._write(self._playback.silence(self._playback.granted.periods - 1))
        if not self._with_capture:
            self._captured = np.zeros(self._period, dtype=np.float32)
        while self._captured.size < self._period:
            self._read_capture_period()
        captured, self._captured = self._captured[: self._period], self._captured[self._period:]
        if not refill:
            self._write(self._playback.to_card(playback))
        self._update_delay()
        return to_int16(captured)

    def _read_capture_period(self) -> None:
        capture = self._capture
        frames, data = capture.pcm.read()
        self._check_current(capture)
        if frames < 0:
            self._count_xrun("capture overrun")
            return
        self._captured = np.concatenate([self._captured, capture.to_internal(data)])

    def _write(self, data: bytes) -> None:
        if not data:
            return
        playback = self._playback
        written = playback.pcm.write(data)
        self._check_current(playback)
        if written < 0:
            self._count_xrun("playback underrun")
            # pyalsaaudio re-prepares on the next call; restore the depth, then the data.
            playback.pcm.write(playback.silence(playback.granted.periods - 1))
            playback.pcm.write(data)

    def _check_current(self, pcm: _Pcm) -> None:
        """A read or write that returns after the card was given up and reopened (a loop
        thread left behind) must not touch the new PCMs."""
        if pcm is not self._capture and pcm is not self._playback:
            raise AudioDeviceError(f"{pcm.key}: a call returned after the device was reopened")

    def _count_xrun(self, what: str) -> None:
        self._xruns += 1
        log.warning("%s on %s (xrun %d); re-prepared, echo alignment reset",
                    what, self.settings.playback_device, self._xruns)

    def _update_delay(self) -> None:
        """Playback buffer fill plus capture backlog, converted to 16 kHz samples."""
        playback, capture = self._playback, self._capture
        avail = playback.avail()
        fill = playback.granted.buffer_frames - avail if avail >= 0 else 0
        self._queued = fill * SAMPLE_RATE_HZ // playback.granted.rate_hz
        self._delay = self._queued + self._captured.size
        if capture is not None:
            self._delay += max(capture.avail(), 0) * SAMPLE_RATE_HZ // capture.granted.rate_hz

    def drop_playback(self) -> None:
        if self._playback is None or not self._started:
            return
        self._playback.drop()
        self._playback.reset_resampler()
        self._queued = 0
        self._refill = True

    def close(self) -> None:
        for pcm in (self._playback, self._capture):
            if pcm is not None:
                pcm.close()
        self._playback = self._capture = None
        self._started = False
