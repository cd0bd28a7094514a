"""`appliance run` with its screen, through real ALSA on the private PulseAudio loop.

The page's talk button is a POST to /talk (the browser tests press it in
Chromium); here it must reach the running service's kiosk as a push-to-talk.
A page still holding its event stream open must not delay the service's stop
(aiohttp waits 60 s for open handlers unless they are cancelled; systemd
allows 15 s, TimeoutStopSec=).
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import urllib.request

import pytest
from pulse import KIOSK_AUDIO_CONFIG
from test_run_alsa import EventTail, stop

pytestmark = [pytest.mark.alsa, pytest.mark.slow]   # the kiosk process with every model


def test_run_serves_the_screen_and_its_talk_button_is_push_to_talk(pulse, tmp_path):
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    config = tmp_path / "appliance.toml"
    config.write_text(KIOSK_AUDIO_CONFIG + f"\n[screen]\nenabled = true\nport = {port}\n")
    events = tmp_path / "events.jsonl"
    kiosk = subprocess.Popen(
        [sys.executable, "-m", "appliance", "--config", str(config), "run", "--events", str(events)],
        env={**os.environ, **pulse.client_env()}, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
        text=True)
    tail = EventTail(events, kiosk)
    url = f"http://127.0.0.1:{port}/"
    stream = None
    try:
        ready = tail.wait_for("ready")
        stream = urllib.request.urlopen(url + "events", timeout=10)
        assert stream.readline().startswith(b"retry:")
        urllib.request.urlopen(urllib.request.Request(url + "talk", method="POST"), timeout=10)
        listening = tail.wait_for("state", ready)
    finally:
        stderr = stop(kiosk, timeout_s=15.0)
        if stream is not None:
            stream.close()
    assert kiosk.returncode == 0, stderr[-2000:]
    assert tail.records[listening]["state"] == "listening"
    assert "wake" not in [record["event"] for record in tail.records]
