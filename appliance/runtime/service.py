"""`appliance run`: the kiosk on a real sound card, as the systemd service runs it.

Threads: the duplex loop owns the card (real-time priority where allowed);
this module's conversation loop (the calling thread) hands the kiosk every
cleaned frame and detector event; the reply worker, the LLM and gpiozero's
pin thread run on their own. The push-to-talk button only puts its presses
in a queue: the conversation loop acts on them, so the kiosk is only ever
touched from one thread. systemd hears READY=1 once the models are loaded
and the loop runs, WATCHDOG=1 while the loop makes progress, STATUS= with
the conversation state.
"""

from __future__ import annotations

import logging
import queue
import signal
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from appliance.agent.events import EventLog
from appliance.agent.redact import keeps_words
from appliance.audio.device import AudioDevice
from appliance.audio.factory import open_device
from appliance.config import Config
from appliance.device.gpio import Amplifier, PushToTalk, StatusLed
from appliance.device.journal import hold_word_loggers
from appliance.device.notify import Notifier, Watchdog, watchdog_interval_s
from appliance.errors import ApplianceError, AudioDeviceError
from appliance.messages import SAMPLE_RATE_HZ, State
from appliance.runtime import privacy, shutdown
from appliance.runtime.pipeline import Pipeline

if TYPE_CHECKING:
    from appliance.runtime.screen.screen import Screen

log = logging.getLogger(__name__)

FADE_OUT_WAIT_S = 0.5
"""On stop, how long the loop may run to play the fade of a reply cut short, seconds."""
REOPEN_FIRST_S = 0.1
"""First wait before reopening a sound card that failed, seconds; doubles per attempt."""
REOPEN_MAX_S = 5.0
"""Longest wait between two attempts, seconds. The watchdog is quiet meanwhile (the loop
does not advance), so systemd restarts the whole service after WatchdogSec if the card
stays away; a card that comes back sooner is picked up without losing the conversation."""
STALL_S = 3.0
"""A loop that has run and then spends this long inside one period is stuck in the card
(PulseAudio killed inside a read): it is given up and the card reopened, seconds. Well
under WatchdogSec, so the kiosk recovers before systemd restarts it."""


class KioskService:
    """The running kiosk: opened devices, threads, and a stop event."""

    def __init__(self, config: Config, events: EventLog, device: AudioDevice | None = None,
                 pin_factory: object | None = None) -> None:
        self.config = config
        self.stop_requested = threading.Event()
        self._presses: queue.Queue[float] = queue.Queue(maxsize=8)
        self.device = device or open_device(config.audio)
        self.pipeline = Pipeline(config, self.device, events)
        self.notifier = Notifier()
        self.led = StatusLed(config.gpio, pin_factory=pin_factory)
        self.amplifier = Amplifier(config.gpio, pin_factory=pin_factory)
        self.button = PushToTalk(config.gpio, on_press=self._pressed, on_release=lambda _s: None,
                                 pin_factory=pin_factory)
        self.pipeline.kiosk.on_state(self._show_state)
        self.screen = self._open_screen(config)
        self.watchdog = Watchdog(lambda: self.pipeline.loop.periods_done, self.notifier,
                                 watchdog_interval_s())

    def _open_screen(self, config: Config) -> Screen | None:
        """The page on the socket systemd passed in, or on `[screen] host:port`."""
        if not config.screen.enabled:
            return None
        from appliance.runtime.screen.screen import Screen
        from appliance.runtime.screen.server import systemd_socket

        return Screen(config.screen, self.pipeline, sock=systemd_socket())

    def _pressed(self) -> None:
        try:
            self._presses.put_nowait(time.monotonic())
        except queue.Full:
            pass

    def _show_state(self, state: State) -> None:
        self.led.show(state)
        self.notifier.show(state)
        if state in (State.THINKING, State.SPEAKING):
            self.amplifier.ensure_on()
        elif state is State.IDLE:
            self.amplifier.idle()

    def run(self) -> None:
        """Start the loop, pre-train the canceller, then take turns until asked to stop."""
        kiosk = self.pipeline.kiosk
        self.amplifier.ensure_on()
        self.pipeline.boot()
        self.pipeline.loop.start()
        self.watchdog.start()
        self.led.show(State.IDLE)
        log.info("kiosk running on %s / %s", self.config.audio.capture_device,
                 self.config.audio.playback_device)
        period_s = self.device.period_samples / SAMPLE_RATE_HZ
        while not self.stop_requested.is_set():
            if self.pipeline.loop.error is not None:
                self._reopen(self.pipeline.loop.error)
                continue
            if (stalled_s := self.pipeline.loop.stalled_s()) >= STALL_S:
                self._reopen(AudioDeviceError(
                    f"no audio period for {stalled_s:.1f} s (the sound card or its server "
                    "stopped answering)"))
                continue
            self.pipeline.pump(timeout=4 * period_s)
            presses = self.screen.presses() if self.screen is not None else 0
            while not self._presses.empty():
                self._presses.get_nowait()
                presses += 1
            for _ in range(presses):
                kiosk.push_to_talk(self.pipeline.loop.periods_done * period_s)
            if self.screen is not None:
                self.screen.tick()

    def _reopen(self, error: BaseException) -> None:
        """The card failed (unplugged, PulseAudio gone, an ALSA error, a loop stuck inside
        it): reopen it with backoff and restart the loop.

        The reply it was playing is lost (the turn ends and the kiosk listens again,
        as after any failed stage), and the reopened card is a new echo path: its delay
        differs, so the canceller trained on the old one would let the agent's voice
        through and the kiosk would interrupt itself. It is trained again with the
        start-up burst before anything is heard. A loop thread stuck inside the card
        is left behind (it cannot be interrupted); so is a PCM whose close hangs
        (`audio/alsa_native.py`). A fresh loop that never completes a period is not
        given up again: the watchdog then restarts the unit."""
        self.pipeline.loop.stop()
        self.pipeline.kiosk.audio_failed(error)
        self.pipeline.speaker.discard()
        wait_s, attempts = REOPEN_FIRST_S, 0
        while not self.stop_requested.wait(wait_s):
            attempts += 1
            try:
                self.device.close()
                self.device.open()
            except (ApplianceError, OSError) as failure:
                log.warning("reopening the sound card (attempt %d) failed: %s", attempts, failure)
                wait_s = min(2 * wait_s, REOPEN_MAX_S)
                continue
            log.warning("sound card reopened after %d attempt(s); training the echo canceller "
                        "on it", attempts)
            self.pipeline.retrain()
            self.pipeline.loop.restart()
            return

    def fade_out(self) -> None:
        """Stopping mid-reply: fade the voice out (no click), with the loop still running."""
        speaker, loop = self.pipeline.speaker, self.pipeline.loop
        if not speaker.is_speaking or not loop.running:
            return
        speaker.cut()
        period_s = self.device.period_samples / SAMPLE_RATE_HZ
        deadline = time.monotonic() + FADE_OUT_WAIT_S
        while speaker.is_speaking and time.monotonic() < deadline and loop.error is None:
            self.pipeline.pump(feed=False, timeout=period_s)
        log.info("stopping: the reply in progress was faded out")

    def close(self) -> None:
        """Stop every thread and release the card and the models; safe to call twice."""
        self.notifier.stopping()
        self.fade_out()
        self.watchdog.close()
        if self.screen is not None:
            self.screen.close()
        self.pipeline.close()
        for part in (self.button, self.led, self.amplifier, self.device):
            part.close()


def run_service(config: Config, events_path: Path | None,
                timeline: Callable[[dict], None] | None = None) -> int:
    """Run until SIGINT/SIGTERM; returns the process exit code.

    The first log line says what this run keeps about its guests; when words
    are kept it is a warning, so nobody turns them on by accident unnoticed.
    Without words, libraries that would log text at debug level stay at info.
    """
    said = f"privacy: {privacy.summary(config, events_path)}"
    if keeps_words(config.privacy):
        log.warning("%s; the journal gets the same words", said)
    else:
        log.info(said)
        held = hold_word_loggers()
        if log.isEnabledFor(logging.DEBUG):
            log.debug("debug logging: %s kept at info, as they would log what the agent says",
                      ", ".join(held))
    already_running = threading.enumerate()
    with EventLog(events_path, config.privacy) as events:
        if timeline is not None:
            events.subscribe(timeline)
        service = KioskService(config, events)
        for signum in (signal.SIGINT, signal.SIGTERM):
            signal.signal(signum, lambda *_: service.stop_requested.set())
        try:
            service.run()
        finally:
            service.close()
    return shutdown.finish(0, already_running)
