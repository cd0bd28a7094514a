"""The `AudioDevice` interface, and the factory that picks an implementation.

In the spirit of gpiozero's pin factories: the duplex loop only ever sees this
interface; `open_device()` picks ALSA or the simulated room from the config,
and only `appliance.audio.alsa` imports `alsaaudio`.
"""

from __future__ import annotations

import abc
from typing import TYPE_CHECKING

import numpy as np

from appliance.messages import SAMPLE_RATE_HZ

if TYPE_CHECKING:
    from appliance.audio.room import RoomSettings
    from appliance.config import AudioSettings


class AudioDevice(abc.ABC):
    """A full-duplex sound device seen at the internal rate (16 kHz mono int16).

    One `exchange()` call is one period: it writes `period_samples` samples to
    the speaker and returns the `period_samples` samples captured meanwhile.
    """

    rate_hz: int = SAMPLE_RATE_HZ

    @property
    @abc.abstractmethod
    def period_samples(self) -> int:
        """Samples per period at the internal rate."""

    @property
    @abc.abstractmethod
    def output_delay_samples(self) -> int:
        """Samples written but not yet heard: the playback buffer fill plus the
        capture side's latency, i.e. the current playback-to-capture delay
        excluding the acoustic path."""

    @property
    @abc.abstractmethod
    def playback_queued_samples(self) -> int:
        """Samples written to the speaker side but not yet played (the card
        buffer fill); what `drop_playback()` would discard."""

    @property
    @abc.abstractmethod
    def xruns(self) -> int:
        """Overruns and underruns recovered so far."""

    @abc.abstractmethod
    def open(self) -> None:
        """Acquire the device; raises AudioDeviceError with one clear line."""

    @abc.abstractmethod
    def exchange(self, playback: np.ndarray) -> np.ndarray:
        """Write one playback period, return one capture period."""

    @abc.abstractmethod
    def drop_playback(self) -> None:
        """Discard everything queued for the speaker but not yet played."""

    @abc.abstractmethod
    def close(self) -> None:
        """Release the device; safe to call twice."""

    def __enter__(self) -> AudioDevice:
        self.open()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()


def open_device(
    settings: AudioSettings, room: RoomSettings | None = None, seed: int | None = None,
    capture: bool = True,
) -> AudioDevice:
    """The device named by `settings.backend`, opened.

    "alsa" opens the capture and playback PCMs of the config; "sim" builds a
    simulated room (`room`, default settings when None) with the same period
    and queue depth, so that latencies measured on either are comparable.
    `capture=False` (playing only) leaves the ALSA capture device closed.
    """
    if settings.backend == "sim":
        from appliance.audio.room import RoomSettings, SimulatedRoom

        device: AudioDevice = SimulatedRoom(
            room or RoomSettings(), settings.period_ms, settings.periods, seed
        )
    else:
        from appliance.audio.alsa import AlsaDevice

        device = AlsaDevice(settings, capture=capture)
    device.open()
    return device
