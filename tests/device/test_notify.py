"""sd_notify: READY after the loop runs, WATCHDOG while it advances, none once it stalls.

systemd is replaced by a datagram socket the test binds and names in
NOTIFY_SOCKET (the "fake notify socket"); the Watchdog thread and the
systemd-python sender are the real ones.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from appliance.device.notify import Notifier, Watchdog, watchdog_interval_s
from appliance.messages import State

INTERVAL_S = 0.05
RECV_TIMEOUT_S = 3.0


@pytest.fixture
def notify_socket(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    path = tmp_path / "notify.sock"
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    sock.bind(str(path))
    monkeypatch.setenv("NOTIFY_SOCKET", str(path))
    yield sock
    sock.close()


def receive(sock: socket.socket, timeout_s: float = RECV_TIMEOUT_S) -> str | None:
    sock.settimeout(timeout_s)
    try:
        return sock.recv(4096).decode()
    except TimeoutError:
        return None


class PeriodCounter:
    """Stands in for the duplex loop's `periods_done`: the test decides when it advances."""

    def __init__(self) -> None:
        self.periods_done = 0
        self._lock = threading.Lock()

    def advance(self) -> None:
        with self._lock:
            self.periods_done += 1


def test_sd_notify_sequence_ready_watchdog_stall_with_fake_notify_socket(notify_socket):
    loop = PeriodCounter()
    with Watchdog(lambda: loop.periods_done, Notifier(), INTERVAL_S) as watchdog:
        # The loop has not run a period yet: no READY, nothing at all.
        assert receive(notify_socket, timeout_s=10 * INTERVAL_S) is None
        assert not watchdog.ready.is_set()

        loop.advance()
        assert receive(notify_socket) == f"READY=1\nSTATUS={State.IDLE.value}"
        assert watchdog.ready.wait(RECV_TIMEOUT_S)

        for _ in range(3):
            loop.advance()
            assert receive(notify_socket) == "WATCHDOG=1"

        # Stalled loop: several intervals pass without a single ping.
        assert receive(notify_socket, timeout_s=8 * INTERVAL_S) is None

        loop.advance()
        assert receive(notify_socket) == "WATCHDOG=1"


def test_watchdog_without_watchdogsec_announces_ready_but_never_pings_fake_socket(notify_socket):
    loop = PeriodCounter()
    with Watchdog(lambda: loop.periods_done, Notifier(), None) as watchdog:
        loop.advance()
        assert receive(notify_socket) == "READY=1\nSTATUS=idle"
        assert watchdog.ready.wait(RECV_TIMEOUT_S)  # set just after the send returns
        loop.advance()
        assert receive(notify_socket, timeout_s=0.3) is None


def test_status_follows_state_on_fake_notify_socket(notify_socket):
    notifier = Notifier()
    notifier.show(State.SPEAKING)
    assert receive(notify_socket) == "STATUS=speaking"
    assert notifier.stopping()
    assert receive(notify_socket) == "STOPPING=1"


def test_notifier_without_socket_is_a_no_op(monkeypatch: pytest.MonkeyPatch):
    monkeypatch.delenv("NOTIFY_SOCKET", raising=False)
    notifier = Notifier()
    assert not notifier.enabled
    assert notifier.ready() is False
    assert notifier.watchdog() is False


def test_unreachable_notify_socket_is_reported_not_raised(tmp_path: Path, monkeypatch):
    monkeypatch.setenv("NOTIFY_SOCKET", str(tmp_path / "nobody-listens.sock"))
    assert Notifier().watchdog() is False


def test_watchdog_interval_is_half_of_watchdog_usec():
    assert watchdog_interval_s({"WATCHDOG_USEC": "10000000"}) == pytest.approx(5.0)
    assert watchdog_interval_s({}) is None
    assert watchdog_interval_s({"WATCHDOG_USEC": "0"}) is None
    own = str(os.getpid())
    assert watchdog_interval_s({"WATCHDOG_USEC": "2000000", "WATCHDOG_PID": own}) == 1.0
    other = str(os.getpid() + 1)
    assert watchdog_interval_s({"WATCHDOG_USEC": "2000000", "WATCHDOG_PID": other}) is None


def test_watchdog_close_is_safe_twice_and_before_ready(notify_socket):
    watchdog = Watchdog(lambda: 0, Notifier(), INTERVAL_S).start()
    watchdog.close()
    watchdog.close()
    assert not watchdog.ready.is_set()
    assert receive(notify_socket, timeout_s=0.1) is None


_FLOOD = """
import logging, sys
from appliance.device.notify import Notifier
logging.basicConfig(level=logging.INFO, stream=sys.stderr, format="%(message)s")
notifier = Notifier()
sent = [notifier.status(f"{n:04d}" * 500) for n in range(300)]
print(sent[0], sent[-1], sum(sent))
"""


def test_a_full_notify_socket_drops_messages_with_one_line_never_blocks(notify_socket):
    """Nobody reads the socket (systemd hung, or a socket left alone): its queue fills
    after a few datagrams. STATUS= follows every state on the conversation thread, so a
    send must never wait: it is dropped, said in one line. Run in a child process: a
    sender that blocks holds the GIL and would freeze the test itself."""
    try:
        flood = subprocess.run([sys.executable, "-c", _FLOOD], capture_output=True, text=True,
                               timeout=30, env={**os.environ})
    except subprocess.TimeoutExpired:
        pytest.fail("sd_notify blocked on a socket nobody reads")
    assert flood.returncode == 0, flood.stderr[-2000:]
    first, last, sent = flood.stdout.split()
    assert (first, last) == ("True", "False") and 0 < int(sent) < 300
    dropped = [line for line in flood.stderr.splitlines() if "dropped" in line]
    assert len(dropped) == 1, flood.stderr[-2000:]
    # Once systemd reads again, messages go through.
    while receive(notify_socket, timeout_s=0.05) is not None:
        pass
    assert Notifier().status("idle") is True
    assert receive(notify_socket) == "STATUS=idle"
