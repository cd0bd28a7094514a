"""The `AudioDevice` interface, free of any implementation.

In the spirit of gpiozero's `pins/__init__.py`: the duplex loop only ever sees
this interface; `appliance.audio.factory.open_device()` (above both
implementations) picks ALSA or the simulated room from the config, and only
`appliance.audio.alsa` imports `alsaaudio`.
"""

from __future__ import annotations

import abc

import numpy as np

from appliance.messages import SAMPLE_RATE_HZ


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

