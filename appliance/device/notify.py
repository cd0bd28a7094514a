"""Tell systemd how the kiosk is doing: READY=1, STATUS=<state>, WATCHDOG=1.

The unit is `Type=notify` with `WatchdogSec=`. READY=1 goes out only once the
duplex audio loop has completed a period (models are loaded before the loop
starts), and WATCHDOG=1 only while the loop's own period counter advances.
That is the whole point: a stalled audio loop stops the pings and systemd
restarts the service, while a slow LLM reply (another thread) changes nothing.

Each message is one datagram to $NOTIFY_SOCKET, read at each call as sd_notify
does; without it (a laptop, a test run) every call is a no-op. The send never
waits: STATUS= follows every state change on the conversation thread, and a
socket nobody reads fills after a few datagrams (systemd-python's wrapper then
blocked the whole process, GIL held). A full socket drops the message with one
log line per run of drops; a failing send is logged once and never raised: the
kiosk keeps talking.
"""

from __future__ import annotations

import logging
import os
import socket
import threading
from collections.abc import Callable, Mapping

from appliance.messages import State

log = logging.getLogger(__name__)

STARTUP_POLL_S = 0.01
"""How often the watchdog looks for the loop's first period before READY=1, seconds."""


def watchdog_interval_s(environ: Mapping[str, str] = os.environ) -> float | None:
    """Half of systemd's WatchdogSec (from $WATCHDOG_USEC), or None without a watchdog.

    systemd recommends pinging at half the timeout so one late ping is not fatal.
    $WATCHDOG_PID, when set, must be this process (a child must not ping for us).
    """
    usec = environ.get("WATCHDOG_USEC", "")
    pid = environ.get("WATCHDOG_PID", "")
    if not usec.isdigit() or int(usec) == 0:
        return None
    if pid and pid != str(os.getpid()):
        return None
    return int(usec) / 2_000_000


class Notifier:
    """Sends sd_notify datagrams to the service manager; does nothing when not under one."""

    def __init__(self) -> None:
        self._failed = False
        self._dropping = False

    @property
    def enabled(self) -> bool:
        return bool(os.environ.get("NOTIFY_SOCKET"))

    def ready(self, status: str = State.IDLE.value) -> bool:
        return self._send(f"READY=1\nSTATUS={status}")

    def status(self, text: str) -> bool:
        return self._send(f"STATUS={text}")

    def show(self, state: State) -> None:
        """Follow the conversation state, like the status LED does."""
        self.status(state.value)

    def watchdog(self) -> bool:
        return self._send("WATCHDOG=1")

    def stopping(self) -> bool:
        return self._send("STOPPING=1")

    def _send(self, message: str) -> bool:
        address = os.environ.get("NOTIFY_SOCKET", "")
        if not address:
            return False
        if address.startswith("@"):  # an abstract socket, as systemd writes it
            address = "\0" + address[1:]
        try:
            with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM | socket.SOCK_CLOEXEC) as sock:
                sock.sendto(message.encode(), socket.MSG_DONTWAIT, address)
        except BlockingIOError:
            if not self._dropping:
                log.warning("sd_notify: %s is full (nobody reads it); dropped %s",
                            address, message.split("\n")[0])
                self._dropping = True
            return False
        except OSError as error:
            if not self._failed:
                log.warning("sd_notify to %s failed: %s", address, error)
                self._failed = True
            return False
        self._dropping = False
        return True


class Watchdog:
    """Announces readiness, then pings systemd while `progress()` keeps advancing.

    `progress` is the duplex loop's `periods_done` counter. The thread first
    waits for it to move (the loop runs: READY=1), then every `interval_s`
    sends WATCHDOG=1 only if it moved since the last ping. `interval_s=None`
    (no WatchdogSec) still announces readiness but never pings.
    """

    def __init__(
        self,
        progress: Callable[[], int],
        notifier: Notifier,
        interval_s: float | None,
        ready_status: str = State.IDLE.value,
    ) -> None:
        self._progress = progress
        self._notifier = notifier
        self._interval_s = interval_s
        self._ready_status = ready_status
        self.ready = threading.Event()
        """Set once READY=1 was sent; start-up code may wait on it with a timeout."""
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="systemd-watchdog", daemon=True)
        self._stalled_at: int | None = None

    def start(self) -> Watchdog:
        self._thread.start()
        return self

    def close(self) -> None:
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(timeout=2.0)

    def __enter__(self) -> Watchdog:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def _run(self) -> None:
        last = self._wait_for_first_period()
        if last is None:
            return
        self._notifier.ready(self._ready_status)
        self.ready.set()
        if self._interval_s is None:
            return
        while not self._stop.wait(self._interval_s):
            last = self._ping_if_advanced(last)

    def _wait_for_first_period(self) -> int | None:
        start = self._progress()
        while not self._stop.wait(STARTUP_POLL_S):
            current = self._progress()
            if current != start:
                return current
        return None

    def _ping_if_advanced(self, last: int) -> int:
        current = self._progress()
        if current != last:
            self._notifier.watchdog()
            self._stalled_at = None
        elif self._stalled_at != current:
            # Said once per stall: systemd will restart us if it lasts.
            log.error("audio loop stalled at period %d; withholding the watchdog ping", current)
            self._stalled_at = current
        return current
