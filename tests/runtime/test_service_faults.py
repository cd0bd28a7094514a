"""The running kiosk (`KioskService`, its duplex loop in its own thread) under device faults.

The sound card is `FaultyRoom`, a fake: the simulated room paced to the wall
clock like a card, that can vanish (every exchange and reopen fails, as when
PulseAudio dies or the USB card is pulled), freeze (an exchange that never
returns) or storm (an xrun every few periods). systemd is a datagram socket
the test binds as NOTIFY_SOCKET; the push-to-talk button is gpiozero's mock pin.
"""

from __future__ import annotations

import dataclasses
import queue
import socket
import threading
import time

import numpy as np
import pytest
from gpiozero.pins.mock import MockFactory

from appliance.agent.events import EventLog
from appliance.agent.redact import KEEP_WORDS
from appliance.audio.room import RoomSettings, SimulatedRoom
from appliance.audiofile import resample
from appliance.config import Config, GpioSettings
from appliance.errors import AudioDeviceError
from appliance.messages import SAMPLE_RATE_HZ, State
from appliance.runtime.service import STALL_S, KioskService

pytestmark = pytest.mark.slow   # the service with a whole pipeline

BUTTON_PIN = 17
WATCHDOG_USEC = 400_000          # pings every 0.2 s
QUIET_WINDOW_S = 1.0             # five ping intervals with no ping = the watchdog is quiet
EVENT_TIMEOUT_S = 90.0


class FaultyRoom(SimulatedRoom):
    """Fake sound card: the simulated room at the card's pace, with injectable faults."""

    def __init__(self, room: RoomSettings) -> None:
        super().__init__(room)
        self.gone = threading.Event()
        self.thawed = threading.Event()
        self.thawed.set()
        self.storm_every = 0
        self._xruns = 0
        self.opens = 0
        self._wall_start: float | None = None

    def open(self) -> None:
        if self.gone.is_set():
            raise AudioDeviceError("injected fault: no such card")
        self.opens += 1
        super().open()

    def exchange(self, playback: np.ndarray) -> np.ndarray:
        self.thawed.wait()
        if self.gone.is_set():
            raise AudioDeviceError("injected fault: the card went away")
        if self.storm_every and self.samples_elapsed // self.period_samples % self.storm_every == 0:
            self._xruns += 1
        captured = super().exchange(playback)
        # A card returns a period when it has captured one: keep to the wall clock.
        now = time.monotonic()
        if self._wall_start is None:
            self._wall_start = now
        due = self._wall_start + self.samples_elapsed / SAMPLE_RATE_HZ
        if due > now:
            time.sleep(due - now)
        return captured

    @property
    def xruns(self) -> int:
        return self._xruns


class Systemd:
    """The fake notify socket: a thread reads it at once, as systemd does (a datagram
    socket nobody reads fills after ~10 messages and blocks the sender)."""

    def __init__(self, path) -> None:
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        self.sock.bind(str(path))
        self.messages: queue.Queue[str] = queue.Queue()
        self._closed = threading.Event()
        self._reader = threading.Thread(target=self._read, name="fake-systemd", daemon=True)
        self._reader.start()

    def _read(self) -> None:
        self.sock.settimeout(0.1)     # to notice close(); not a synchronisation
        while not self._closed.is_set():
            try:
                self.messages.put(self.sock.recv(4096).decode())
            except TimeoutError:
                continue

    def next_ping(self, timeout_s: float) -> bool:
        """True if WATCHDOG=1 arrives within `timeout_s` (other messages are skipped)."""
        deadline = time.monotonic() + timeout_s
        while (left := deadline - time.monotonic()) > 0:
            try:
                message = self.messages.get(timeout=left)
            except queue.Empty:
                return False
            if "WATCHDOG=1" in message:
                return True
        return False

    def drain(self) -> None:
        while True:
            try:
                self.messages.get_nowait()
            except queue.Empty:
                return

    def close(self) -> None:
        self._closed.set()
        self._reader.join(timeout=5)
        self.sock.close()


class Running:
    """A KioskService on a FaultyRoom in a thread, with helpers to talk to it."""

    def __init__(self, tmp_path, monkeypatch) -> None:
        monkeypatch.setenv("NOTIFY_SOCKET", str(tmp_path / "notify.sock"))
        monkeypatch.setenv("WATCHDOG_USEC", str(WATCHDOG_USEC))
        monkeypatch.delenv("WATCHDOG_PID", raising=False)
        self.systemd = Systemd(tmp_path / "notify.sock")
        base = Config()
        self.config = dataclasses.replace(
            base, audio=dataclasses.replace(base.audio, backend="sim"),
            gpio=GpioSettings(enabled=True, button_pin=BUTTON_PIN))
        self.room = FaultyRoom(RoomSettings(echo_gain_db=-3.0, rt60_s=0.2, seed=3))
        self.room.open()
        self.events = EventLog(tmp_path / "events.jsonl", KEEP_WORDS)
        self.records: list[dict] = []     # every record (the log itself keeps a window)
        self._seen = threading.Condition()
        self.events.subscribe(self._notify)
        self.factory = MockFactory()
        self.service = KioskService(self.config, self.events, device=self.room,
                                    pin_factory=self.factory)
        self.failure: BaseException | None = None
        self.thread = threading.Thread(target=self._run, name="kiosk-under-test")
        self.thread.start()

    def _run(self) -> None:
        try:
            self.service.run()
        except BaseException as error:  # noqa: BLE001 - reported by the test
            self.failure = error
        finally:
            with self._seen:
                self._seen.notify_all()

    def _notify(self, record) -> None:
        with self._seen:
            self.records.append(record)
            self._seen.notify_all()

    def wait_for(self, event: str, after: int = 0, **fields) -> int:
        """Index of the first `event` record at or after `after` with these fields."""
        def found():
            records = self.records
            return next((i for i in range(after, len(records)) if records[i]["event"] == event
                         and all(records[i].get(k) == v for k, v in fields.items())), None)
        with self._seen:
            if not self._seen.wait_for(lambda: found() is not None or not self.thread.is_alive(),
                                       EVENT_TIMEOUT_S):
                pytest.fail(f"no {event} {fields or ''} within {EVENT_TIMEOUT_S:.0f} s; saw "
                            f"{[r['event'] for r in self.records[after:]]}")
        index = found()
        if index is None:
            pytest.fail(f"the kiosk stopped before {event}: {self.failure!r}")
        return index

    def ask(self, text: str, after: int) -> int:
        """Press the button (unless the kiosk listens already), say `text`; the index of the
        agent's answer."""
        listening = after
        if self.service.pipeline.kiosk.state is not State.LISTENING:
            pin = self.factory.pin(BUTTON_PIN)
            pin.drive_low()
            pin.drive_high()
            listening = self.wait_for("state", after, state="listening")
        tts = self.service.pipeline.tts
        audio = np.concatenate([resample(c.samples, c.rate_hz) for c in tts.synthesize(text)])
        self.room.add_caller(audio, self.room.samples_elapsed + SAMPLE_RATE_HZ // 10)
        return self.wait_for("agent_speech_start", listening)

    def stop(self) -> None:
        self.room.thawed.set()
        self.room.gone.clear()
        self.service.stop_requested.set()
        self.thread.join(timeout=30)
        self.service.close()
        self.events.close()
        self.systemd.close()
        assert not self.thread.is_alive(), "the kiosk did not stop within 30 s"


@pytest.fixture()
def kiosk(tmp_path, monkeypatch):
    running = Running(tmp_path, monkeypatch)
    try:
        running.wait_for("ready")
        yield running
    finally:
        running.stop()
    assert running.failure is None, f"the kiosk died: {running.failure!r}"


def test_card_vanishing_mid_reply_is_reopened_and_the_conversation_goes_on(kiosk):
    answering = kiosk.ask("Can you tell me about breakfast and dinner?", 0)
    kiosk.room.gone.set()                                    # unplugged mid-reply
    failed = kiosk.wait_for("error", answering, stage="audio")
    assert "went away" in kiosk.records[failed]["message"]
    kiosk.systemd.drain()
    kiosk.systemd.next_ping(2 * WATCHDOG_USEC / 1e6)         # the periods before the fault count once
    assert not kiosk.systemd.next_ping(QUIET_WINDOW_S), "WATCHDOG=1 while the card was gone"
    opens = kiosk.room.opens
    kiosk.room.gone.clear()                                  # plugged back in
    assert kiosk.systemd.next_ping(10.0), "no WATCHDOG=1 after the card came back"
    assert kiosk.room.opens == opens + 1
    # The reopened card is a new echo path: the canceller is trained on it again (the
    # start-up burst, `ready` once more) before anything is heard, and the reply the
    # old card was playing is dropped, not played on from the middle of a word.
    trained = kiosk.wait_for("ready", failed)
    after_fault = [r["event"] for r in kiosk.records[failed:trained]]
    assert "agent_speech_end" not in after_fault, after_fault
    assert "listening" in [r.get("state") for r in kiosk.records[failed:trained]]
    again = kiosk.ask("Is there a swimming pool?", trained)
    assert kiosk.records[again]["text"]


def test_a_stuck_audio_loop_is_given_up_once_then_left_to_the_watchdog(kiosk):
    """A loop stuck inside the card (no error, no return) is given up after STALL_S and
    the card reopened, once; a fresh loop that is stuck too is left alone, the watchdog
    stays quiet and systemd would restart the unit."""
    assert kiosk.systemd.next_ping(5.0), "no WATCHDOG=1 while the loop runs"
    opens, before = kiosk.room.opens, len(kiosk.records)
    kiosk.room.thawed.clear()                                # the next exchange never returns
    kiosk.systemd.drain()
    kiosk.systemd.next_ping(2 * WATCHDOG_USEC / 1e6)         # at most one ping already under way
    assert not kiosk.systemd.next_ping(QUIET_WINDOW_S), "WATCHDOG=1 from a stuck loop"
    stuck = kiosk.wait_for("error", before, stage="audio")
    assert "no audio period" in kiosk.records[stuck]["message"]
    assert not kiosk.systemd.next_ping(STALL_S + QUIET_WINDOW_S), "WATCHDOG=1 from a stuck loop"
    assert kiosk.room.opens == opens + 1, "the fresh loop, stuck too, was given up again"
    kiosk.room.thawed.set()
    assert kiosk.systemd.next_ping(5.0), "no WATCHDOG=1 once the loop moved again"


def test_an_xrun_storm_is_ridden_out(kiosk):
    kiosk.room.storm_every = 7                              # an xrun every 70 ms
    answering = kiosk.ask("Can you tell me about breakfast and dinner?", 0)
    assert kiosk.systemd.next_ping(5.0), "no WATCHDOG=1 during the storm"
    kiosk.room.storm_every = 0
    assert kiosk.room.xruns > 10
    assert not [r for r in kiosk.records[answering:] if r["event"] == "error"]
    kiosk.wait_for("agent_speech_end", answering)
