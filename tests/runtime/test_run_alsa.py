"""`appliance run` through real ALSA on the private PulseAudio loop, with a caller
injected by a second process (paplay into the same null sink the kiosk plays to,
whose monitor is the kiosk's microphone)."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
from pulse import KIOSK_AUDIO_CONFIG

from appliance.audiofile import resample, write_wav
from appliance.config import Config
from appliance.messages import SAMPLE_RATE_HZ
from appliance.speech.tts import Synthesizer

pytestmark = [pytest.mark.alsa, pytest.mark.slow]   # the kiosk process with every model

EVENT_TIMEOUT_S = 60.0

CONFIG = KIOSK_AUDIO_CONFIG + f"""
[aec]
extra_delay_ms = 0.0

# The caller is synthetic: keep the words, so the test can read what was heard.
[privacy]
log_transcripts = true
log_replies = true

# Long answers (the fallback too), so that the caller has something to interrupt.
[knowledge]
file = "{Path(__file__).with_name("long_answers.toml")}"
"""


class EventTail:
    """Reads the kiosk's JSON-lines event log as it grows; `process` is the kiosk (anything
    with `wait(timeout)` and `returncode`)."""

    def __init__(self, path: Path, process: subprocess.Popen) -> None:
        self.path, self.process = path, process
        self.records: list[dict] = []
        self._offset = 0

    def _read(self) -> None:
        if not self.path.exists():
            return
        with self.path.open() as handle:
            handle.seek(self._offset)
            for line in handle:
                if line.endswith("\n"):
                    self.records.append(json.loads(line))
                    self._offset += len(line.encode())

    def wait_for(self, event: str, after: int = 0) -> int:
        """Index of the first `event` at or after record `after`; fails on timeout or exit."""
        deadline = time.monotonic() + EVENT_TIMEOUT_S
        while time.monotonic() < deadline:
            self._read()
            for index in range(after, len(self.records)):
                if self.records[index]["event"] == event:
                    return index
            try:  # wait on the process itself between reads: an early exit is seen at once
                self.process.wait(timeout=0.05)
            except subprocess.TimeoutExpired:
                continue
            pytest.fail(f"appliance run exited with {self.process.returncode} before {event!r}")
        pytest.fail(f"no {event!r} event within {EVENT_TIMEOUT_S:.0f} s; saw "
                    f"{[r['event'] for r in self.records]}")


def stop(kiosk: subprocess.Popen, timeout_s: float = 30.0) -> str:
    """SIGTERM the kiosk if it still runs and return its stderr; SIGKILL after `timeout_s`."""
    if kiosk.poll() is None:
        kiosk.send_signal(signal.SIGTERM)
    try:
        return kiosk.communicate(timeout=timeout_s)[1]
    except subprocess.TimeoutExpired:
        kiosk.kill()
        return kiosk.communicate()[1] + f"\n(still running {timeout_s:.0f} s after SIGTERM)"


@pytest.fixture(scope="module")
def caller_lines(tmp_path_factory) -> dict[str, Path]:
    """The caller's lines as WAV files: the wake word from espeak-ng, the rest from piper."""
    folder = tmp_path_factory.mktemp("caller")
    lines = {}
    wake = folder / "wake.wav"
    subprocess.run(["espeak-ng", "-v", "en-us", "-w", str(wake), "Hey Jarvis"], check=True)
    lines["wake"] = wake
    with Synthesizer(Config().tts, Config().models_dir()) as tts:
        for name, text in (("question", "Can you tell me about breakfast?"),
                           ("interruption", "No, stop. When is dinner served?")):
            audio = np.concatenate([resample(c.samples, c.rate_hz) for c in tts.synthesize(text)])
            padded = np.concatenate([audio, np.zeros(SAMPLE_RATE_HZ // 2, dtype=np.int16)])
            write_wav(folder / f"{name}.wav", padded, SAMPLE_RATE_HZ)
            lines[name] = folder / f"{name}.wav"
    return lines


def interrupted_conversation(tail: EventTail, caller_lines: dict[str, Path],
                             env: dict[str, str]) -> tuple[int, int]:
    """Wake, ask, cut the answer off with a new question; the indices of the question's
    transcript and of the cut."""

    def say(name: str) -> None:
        subprocess.run(["paplay", "--device", "kiosk", str(caller_lines[name])], env=env, check=True)

    ready = tail.wait_for("ready")
    say("wake")
    woke = tail.wait_for("wake", ready)
    say("question")
    asked = tail.wait_for("transcript", woke)
    answering = tail.wait_for("agent_speech_start", asked)
    say("interruption")
    stopped = tail.wait_for("barge_in_stop", answering)
    replanned = tail.wait_for("replan", stopped)
    tail.wait_for("agent_speech_start", replanned)
    return asked, stopped


def test_run_answers_a_caller_and_yields_to_an_interruption(pulse, caller_lines, tmp_path):
    config = tmp_path / "appliance.toml"
    config.write_text(CONFIG)
    events = tmp_path / "events.jsonl"
    env = {**os.environ, **pulse.client_env()}
    kiosk = subprocess.Popen(
        [sys.executable, "-m", "appliance", "--config", str(config), "run", "--events", str(events)],
        env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    tail = EventTail(events, kiosk)
    try:
        asked, stopped = interrupted_conversation(tail, caller_lines, env)
    finally:
        stderr = stop(kiosk)
    assert kiosk.returncode == 0, stderr[-2000:]
    assert "Traceback" not in stderr
    assert tail.records[asked]["text"], "the question was heard as nothing"
    cut = tail.records[stopped]
    assert cut["reply_text"].startswith(cut["heard_text"])
    assert cut["onset_t"] <= cut["t"]

