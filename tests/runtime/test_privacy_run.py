"""With the default `[privacy]`, a whole `appliance run` conversation leaves no guest words behind.

The service code (`run_service`, what `appliance run` calls) runs in this
process on the private PulseAudio loop, with its journal records captured
through the real JournalHandler; a second thread plays the caller (wake word,
a question, an interruption) with paplay and stops the kiosk with SIGTERM, as
systemd would. Afterwards the events file, every journal record and every file
under the state directory are searched. What the recogniser made of the
caller is unknown in advance, so the check is structural: every string in an
event must be one of the log's own names (events, states, sources, kinds),
never free text. The same conversation with the words turned on is
`test_run_alsa.py`, which reads the caller's words back from its events file.
"""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import threading

import pytest
from pulse import KIOSK_AUDIO_CONFIG
from test_run_alsa import EventTail, caller_lines, interrupted_conversation  # noqa: F401 - fixture

from appliance.agent.events import EVENT_NAMES
from appliance.config import load_config
from appliance.messages import State
from appliance.runtime.service import run_service

pytestmark = [pytest.mark.alsa, pytest.mark.slow]   # the kiosk process with every model

STOP_TIMEOUT_S = 180.0
LOG_VOCABULARY = (EVENT_NAMES | {state.value for state in State}
                  | {"speech", "push_to_talk", "wake_word", "request", "backchannel", "empty"})
CALLER_WORDS = re.compile(r"breakfast|dinner|served", re.IGNORECASE)


class ServiceInThisProcess:
    """What EventTail needs of a kiosk process, for run_service in the main thread."""

    returncode = None

    def __init__(self) -> None:
        self.finished = threading.Event()

    def wait(self, timeout: float) -> None:
        if not self.finished.wait(timeout):
            raise subprocess.TimeoutExpired("run_service", timeout)


def free_text(record: dict) -> list[str]:
    """Every string value of an event that is not one of the log's own names."""
    return [value for value in record.values()
            if isinstance(value, str) and value not in LOG_VOCABULARY]


@pytest.fixture
def restore_signals():
    saved = {signum: signal.getsignal(signum) for signum in (signal.SIGINT, signal.SIGTERM)}
    yield
    for signum, handler in saved.items():
        signal.signal(signum, handler)


def test_a_default_run_keeps_no_guest_words(pulse, caller_lines, journal,  # noqa: F811
                                            restore_signals, tmp_path):
    state = tmp_path / "state"
    config_path = tmp_path / "appliance.toml"
    config_path.write_text(KIOSK_AUDIO_CONFIG + f"""
[aec]
extra_delay_ms = 0.0

[llm]
system_prompt = "You are the front desk of a hotel. Describe things in long, detailed answers."
max_sentences = 6
max_tokens = 160

[service]
state_dir = "{state}"
events_path = "events.jsonl"
""")
    config = load_config(config_path)
    events_path = config.events_path()
    assert events_path == state / "events.jsonl"
    kiosk = ServiceInThisProcess()
    found: dict[str, object] = {}
    # Until run_service installs its own handlers, SIGTERM must not kill pytest.
    signal.signal(signal.SIGTERM, lambda *_: None)

    def caller() -> None:
        try:
            tail = EventTail(events_path, kiosk)
            found["indices"] = interrupted_conversation(tail, caller_lines, dict(os.environ))
        except BaseException as error:  # noqa: BLE001 - re-raised in the main thread
            found["error"] = error
        finally:  # stop the kiosk as systemd does; repeated until its own handler is in place
            while not kiosk.finished.wait(0.5):
                os.kill(os.getpid(), signal.SIGTERM)

    thread = threading.Thread(target=caller, name="caller", daemon=True)
    thread.start()
    try:
        assert run_service(config, events_path) == 0
    finally:
        kiosk.finished.set()
        thread.join(STOP_TIMEOUT_S)
    if "error" in found:
        raise found["error"]  # type: ignore[misc]

    asked, stopped = found["indices"]  # type: ignore[misc]
    records = [json.loads(line) for line in events_path.read_text().splitlines()]
    assert records[asked]["event"] == "transcript" and records[asked]["words"] >= 2, \
        "the question was heard as nothing: the absence of words below would prove nothing"
    assert records[asked]["kind"] == "request"
    cut = records[stopped]
    assert cut["reply_words"] >= 1 and 0 <= cut["heard_words"] <= cut["reply_words"]
    assert "reply_text" not in cut and "heard_text" not in cut
    assert {name for r in records for name in free_text(r)} == set()

    event_lines = [json.loads(m) for m, f in journal if f.get("EVENT") in EVENT_NAMES]
    assert len(event_lines) == len(records)
    assert {name for r in event_lines for name in free_text(r)} == set()
    for message, fields in journal:
        assert not CALLER_WORDS.search(message + " ".join(map(str, fields.values()))), message
    assert any(m.startswith("privacy: guest words not logged") for m, _ in journal)

    stored = sorted(p.relative_to(state).as_posix() for p in state.rglob("*") if p.is_file())
    assert stored == ["events.jsonl"], "the service wrote something else (audio?) to its state"
    for path in state.rglob("*"):
        if path.is_file():
            assert not CALLER_WORDS.search(path.read_text(errors="replace"))
