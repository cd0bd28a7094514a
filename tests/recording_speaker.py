"""The real speaker queue, on a simulated room, with a log of the commands it was given.

Detector and front-end tests assert on what the detector asked of the
speaker. The real `Speaker` still shapes the audio (ramps, fades, played
sample counts); this subclass only remembers the calls.
"""

from __future__ import annotations

import numpy as np

from appliance.audio.room import RoomSettings, SimulatedRoom
from appliance.audio.speaker import Speaker
from appliance.config import AudioSettings
from appliance.messages import SAMPLE_RATE_HZ


class RecordingSpeaker(Speaker):
    def __init__(self) -> None:
        self.room = SimulatedRoom(RoomSettings(rt60_s=0.0))
        self.room.open()
        super().__init__(self.room, AudioSettings(backend="sim"))
        self.commands: list[str] = []

    def play(self, samples: int) -> None:
        """Queue and play `samples` of agent audio (a 440 Hz tone) through the room."""
        t = np.arange(samples) / SAMPLE_RATE_HZ
        self.enqueue_audio((8000 * np.sin(2 * np.pi * 440 * t)).astype(np.int16), SAMPLE_RATE_HZ)
        period = self.room.period_samples
        for _ in range(-(-samples // period) + self.room.output_delay_samples // period + 1):
            self.room.exchange(self.pull(period))

    def duck(self, db: float, ms: float) -> None:
        self.commands.append("duck")
        super().duck(db, ms)

    def restore(self, ms: float) -> None:
        self.commands.append("restore")
        super().restore(ms)

    def cut(self, fade_ms: float | None = None) -> None:
        self.commands.append("cut")
        super().cut(fade_ms)
