"""`open_device()`: the factory that picks an `AudioDevice` implementation from the config.

It sits above the interface (`audio/device.py`) and both implementations
(`audio/alsa.py`, `audio/room.py`), as gpiozero's default pin factory sits
above `pins/`: the interface never imports what implements it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from appliance.audio.device import AudioDevice

if TYPE_CHECKING:
    from appliance.audio.room import RoomSettings
    from appliance.config import AudioSettings


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
