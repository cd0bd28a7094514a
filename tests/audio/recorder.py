"""A PeriodSink for tests: keeps every period and lets a test wait for progress."""

from __future__ import annotations

import threading

import numpy as np


class Recorder:
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
