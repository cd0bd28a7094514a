"""Test doubles for the sound side, shipped with the package as gpiozero ships `pins/mock.py`.

`RecordingSpeaker` is the real speaker queue on a simulated room with a log of
the commands it was given: detector and front-end tests assert on what the
detector asked of the speaker, while the real `Speaker` still shapes the audio
(ramps, fades, played sample counts). `PeriodRecorder` is a `PeriodSink` that
keeps every period the duplex loop hands it and lets a test wait for progress.
Nothing here touches hardware; a project that builds on `appliance` can test
against the same doubles.
"""

from __future__ import annotations

import threading

import numpy as np

from appliance.audio.room import RoomSettings, SimulatedRoom
from appliance.audio.speaker import Speaker
from appliance.config import AudioSettings
from appliance.messages import SAMPLE_RATE_HZ


class RecordingSpeaker(Speaker):
    """The real `Speaker` on an anechoic simulated room, remembering duck/restore/cut."""

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


class PeriodRecorder:
    """A `PeriodSink` that keeps every period and lets a test wait for progress (no sleeps)."""

    def __init__(self, stall_s: float = 0.0) -> None:
        self.mic: list[np.ndarray] = []
        self.played: list[np.ndarray] = []
        self.delays: list[int] = []
        self.realigned_at: list[int] = []
        self.stall_next = threading.Event()
        self._stall_s = stall_s
        self._progress = threading.Condition()

    def on_period(self, mic, played, t, delay_samples, realign) -> None:
        if self.stall_next.is_set():
            # Stall the loop's thread on purpose so that the card over/underruns.
            self.stall_next.clear()
            threading.Event().wait(self._stall_s)
        with self._progress:
            if realign:
                self.realigned_at.append(len(self.mic))
            self.mic.append(mic)
            self.played.append(played)
            self.delays.append(delay_samples)
            self._progress.notify_all()

    @property
    def periods(self) -> int:
        with self._progress:
            return len(self.mic)

    def wait_periods(self, count: int, timeout_s: float = 20.0) -> None:
        with self._progress:
            assert self._progress.wait_for(lambda: len(self.mic) >= count, timeout_s), (
                f"only {len(self.mic)} of {count} periods within {timeout_s} s")

    def captured(self) -> np.ndarray:
        with self._progress:
            return np.concatenate(self.mic)

    def sent(self) -> np.ndarray:
        with self._progress:
            return np.concatenate(self.played)
