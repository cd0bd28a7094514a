"""`appliance run` through real ALSA under real OS faults: SIGTERM mid-reply, and the
sound server killed mid-reply (issue 15)."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from pulse import PrivatePulse, PulseStartError
from test_run_alsa import CONFIG, EventTail, caller_lines, stop  # noqa: F401 - caller_lines is a fixture
from test_service_faults import Systemd

pytestmark = [pytest.mark.alsa, pytest.mark.slow]   # the kiosk process with every model

UNIT = Path(__file__).parents[2] / "systemd" / "appliance.service"


def timeout_stop_s() -> float:
    """TimeoutStopSec= of the shipped unit: how long systemd waits before SIGKILL."""
    match = re.search(r"^TimeoutStopSec=(\d+)s?$", UNIT.read_text(), re.MULTILINE)
    assert match, f"{UNIT} has no TimeoutStopSec="
    return float(match.group(1))


def start_kiosk(tmp_path: Path, env: dict[str, str]) -> tuple[subprocess.Popen, EventTail, Path]:
    config = tmp_path / "appliance.toml"
    config.write_text(CONFIG)
    events = tmp_path / "events.jsonl"
    kiosk = subprocess.Popen(
        [sys.executable, "-m", "appliance", "--config", str(config), "run", "--events", str(events)],
        env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    return kiosk, EventTail(events, kiosk), events



def ask(tail: EventTail, env: dict[str, str], caller_lines, after: int) -> int:  # noqa: F811
    def say(name: str) -> None:
        subprocess.run(["paplay", "--device", "kiosk", str(caller_lines[name])], env=env, check=True)

    say("wake")
    woke = tail.wait_for("wake", after)
    say("question")
    return tail.wait_for("agent_speech_start", tail.wait_for("transcript", woke))


def test_sigterm_mid_reply_fades_flushes_and_exits_in_time(pulse, caller_lines, tmp_path):  # noqa: F811
    env = {**os.environ, **pulse.client_env()}
    kiosk, tail, events = start_kiosk(tmp_path, env)
    try:
        answering = ask(tail, env, caller_lines, tail.wait_for("ready"))
    except BaseException:
        stop(kiosk)
        raise
    kiosk.send_signal(signal.SIGTERM)
    asked_at = time.monotonic()
    try:
        stderr = kiosk.communicate(timeout=timeout_stop_s())[1]
    except subprocess.TimeoutExpired:
        stop(kiosk)
        pytest.fail(f"appliance run still running {timeout_stop_s():.0f} s after SIGTERM "
                    "(systemd would SIGKILL it)")
    took_s = time.monotonic() - asked_at
    assert kiosk.returncode == 0, stderr[-2000:]
    assert "Traceback" not in stderr
    assert "faded out" in stderr, "the reply in progress was not faded out"
    text = events.read_text()
    assert text.endswith("\n"), "the event log ends in a torn line"
    records = [json.loads(line) for line in text.splitlines()]
    assert len(records) > answering
    print(f"stopped {took_s:.2f} s after SIGTERM")


def test_sound_server_killed_mid_reply_is_reopened_and_the_conversation_goes_on(
        caller_lines, tmp_path):  # noqa: F811
    """PulseAudio dies mid-reply and comes back (as a user session restarts it). The
    loop is stuck inside the `pulse` plugin (libpulse deadlocks on the lost server),
    and used to freeze the whole process with it (pyalsaaudio's avail() held the GIL),
    so only systemd's watchdog could recover. Now the conversation loop notices, gives
    the card up, reopens it with backoff, answers the next question and still stops
    cleanly on SIGTERM (the PCMs left behind do not hang the exit)."""
    daemon = PrivatePulse(tmp_path / "pulse")
    try:
        daemon.start()
    except PulseStartError as error:
        pytest.fail(f"private PulseAudio did not start: {error}", pytrace=False)
    systemd = Systemd(tmp_path / "notify.sock")
    env = {**os.environ, **daemon.client_env(), "NOTIFY_SOCKET": str(tmp_path / "notify.sock"),
           "WATCHDOG_USEC": "1000000"}
    env.pop("WATCHDOG_PID", None)
    kiosk, tail, events = start_kiosk(tmp_path, env)
    try:
        answering = ask(tail, env, caller_lines, tail.wait_for("ready"))
        assert systemd.next_ping(5.0), "no WATCHDOG=1 while the kiosk runs"
        daemon.process.kill()                     # the sound server dies mid-reply
        daemon.process.wait(timeout=10)
        failed = tail.wait_for("error", answering)
        assert tail.records[failed].get("stage") == "audio", tail.records[failed]
        daemon.start()                            # and comes back on the same socket
        systemd.drain()
        assert systemd.next_ping(30.0), "no WATCHDOG=1 after the sound server came back"
        # The new server's streams are a new echo path (its delay differs): the canceller
        # is trained on it again before the kiosk listens, or it would hear its own voice.
        heard_at = tail.wait_for("ready", failed) + 1
        # The kiosk hears and answers on the reopened card (the wake word is heard as
        # words: after the failed turn it listens without one).
        for line in ("wake", "question"):
            subprocess.run(["paplay", "--device", "kiosk", str(caller_lines[line])], env=env,
                           check=True)
        tail.wait_for("agent_speech_start", tail.wait_for("transcript", heard_at))
    except BaseException:
        stderr = stop(kiosk)
        print(stderr[-3000:])
        raise
    finally:
        systemd.close()
    kiosk.send_signal(signal.SIGTERM)
    try:
        stderr = kiosk.communicate(timeout=timeout_stop_s())[1]
    except subprocess.TimeoutExpired:
        stop(kiosk)
        pytest.fail("appliance run did not exit on SIGTERM after the card was reopened")
    finally:
        daemon.stop()
    assert kiosk.returncode == 0, stderr[-2000:]
    assert "sound card reopened" in stderr
    text = events.read_text()
    assert text.endswith("\n"), "the event log ends in a torn line"
    assert all(json.loads(line) for line in text.splitlines())
