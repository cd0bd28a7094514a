"""The duplex loop: the one thread that owns the sound card.

Every period it pulls what the agent says from the speaker queue (silence
when quiet, so the echo delay never changes), exchanges it with the device
for one captured period, and hands both to the sink (echo canceller,
detector...) together with the device's current playback-to-capture delay.
It never waits on anything but the card; whatever is slow lives elsewhere.

`realign` tells the sink that the delay between what was played and what is
captured changed: after an xrun, or after a cut dropped what the card held.

`run_periods(n)` runs the same cycle synchronously without a thread, which
is how the bench drives the simulated room faster than real time.

A card can also stop answering without an error (PulseAudio killed inside a
read): `stalled_s()` says how long the running thread has been inside one
period, so the supervisor can give up on it. A thread given up that wakes
later drops what it read and ends, and never sets `error`.
"""

from __future__ import annotations

import logging
import os
import threading
import time

import numpy as np

from appliance.audio.device import AudioDevice
from appliance.audio.speaker import Speaker
from appliance.messages import PeriodSink

log = logging.getLogger(__name__)

_JOIN_TIMEOUT_S = 2.0


class DuplexLoop:
    """Reads one period, writes one period, tells the sink; in its own thread or stepped."""

    def __init__(self, device: AudioDevice, speaker: Speaker, sink: PeriodSink,
                 realtime_priority: int = 0) -> None:
        self.device = device
        self.speaker = speaker
        self.sink = sink
        self.realtime_priority = realtime_priority
        self.periods_done = 0
        """Periods completed; monotonic, read by the watchdog as proof of progress."""
        self.error: BaseException | None = None
        """Why the thread stopped, if it stopped on its own."""
        self._alignment = (device.xruns, speaker.drops)
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._last_period_at = time.monotonic()
        self._periods_at_start = 0

    def step(self) -> None:
        """One period: pull, exchange, tell the sink."""
        self._deliver(*self._exchange())

    def _exchange(self) -> tuple[np.ndarray, np.ndarray]:
        played = self.speaker.pull(self.device.period_samples)
        return self.device.exchange(played), played

    def _deliver(self, mic: np.ndarray, played: np.ndarray) -> None:
        period = self.device.period_samples
        alignment = (self.device.xruns, self.speaker.drops)
        realign, self._alignment = alignment != self._alignment, alignment
        t = self.periods_done * period / self.device.rate_hz
        self.sink.on_period(mic, played, t, self.device.output_delay_samples, realign)
        self.periods_done += 1
        self._last_period_at = time.monotonic()

    def run_periods(self, n: int) -> None:
        """Run `n` periods in the caller's thread (simulated room, calibration)."""
        for _ in range(n):
            self.step()

    def start(self) -> None:
        if self._thread is not None:
            return
        self._stop = threading.Event()  # each thread its own: one given up keeps its stop set
        self._last_period_at = time.monotonic()
        self._periods_at_start = self.periods_done
        self._thread = threading.Thread(target=self._run, args=(self._stop,), name="duplex-loop",
                                        daemon=True)
        self._thread.start()

    def restart(self) -> None:
        """Start again after the device was reopened: forget the error, realign at once.

        A reopened card starts with empty buffers, so whatever the sink knew
        about the playback-to-capture delay is stale from the first period.
        """
        self.stop()
        self.error = None
        self._alignment = (-1, -1)
        self.start()

    @property
    def running(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def stalled_s(self) -> float:
        """How long the running thread has been inside one period, seconds; 0 when it is
        not running or has not finished its first period since (re)start (opening a
        capture stream can take seconds)."""
        if not self.running or self.periods_done == self._periods_at_start:
            return 0.0
        return time.monotonic() - self._last_period_at

    def _run(self, stop: threading.Event) -> None:
        self._raise_priority()
        try:
            while not stop.is_set():
                mic, played = self._exchange()
                if stop.is_set():
                    break  # given up while inside the card: this period belongs to nobody
                self._deliver(mic, played)
        except Exception as error:  # the supervisor decides what to do; we say why
            if not stop.is_set():
                self.error = error
                log.error("duplex loop stopped: %s", error)

    def _raise_priority(self) -> None:
        if self.realtime_priority <= 0:
            return
        try:
            os.sched_setscheduler(0, os.SCHED_FIFO, os.sched_param(self.realtime_priority))
        except (PermissionError, OSError) as error:
            log.warning("duplex loop stays at normal priority (SCHED_FIFO %d refused: %s)",
                        self.realtime_priority, error)

    def stop(self) -> None:
        """Stop the thread after its current period; safe to call twice."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(_JOIN_TIMEOUT_S)
            if self._thread.is_alive():
                log.error("duplex loop did not stop within %.1f s; left behind", _JOIN_TIMEOUT_S)
                self._thread.name += " (given up)"  # runtime.shutdown does not wait for it
            self._thread = None

    close = stop

    def __enter__(self) -> DuplexLoop:
        self.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()
