"""Journal logging: structured fields to journald under systemd, key=value on a console.

journald itself is replaced by a fake sender function (JournalHandler's own
injection point); the handler and formatter are the real ones.
"""

from __future__ import annotations

import io
import logging

import pytest

from appliance.device.journal import (
    FieldsFormatter,
    log_event,
    running_under_systemd,
    setup_logging,
)


@pytest.fixture
def restore_root_logger():
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    yield
    for handler in list(root.handlers):
        root.removeHandler(handler)
    for handler in handlers:
        root.addHandler(handler)
    root.setLevel(level)


def test_systemd_is_detected_from_its_environment():
    assert running_under_systemd({"JOURNAL_STREAM": "8:12345"})
    assert running_under_systemd({"INVOCATION_ID": "0123456789abcdef"})
    assert not running_under_systemd({"TERM": "xterm"})


def test_events_reach_a_fake_journal_with_structured_fields(restore_root_logger):
    sent: list[tuple[str, dict]] = []
    setup_logging("info", {"INVOCATION_ID": "abc"}, journal_sender=lambda m, **f: sent.append((m, f)))
    log_event(logging.getLogger("appliance.agent"), "barge_in", "caller cut in", latency_ms=87.5,
              source="push_to_talk")
    assert len(sent) == 1
    message, fields = sent[0]
    assert message == "caller cut in"
    assert fields["EVENT"] == "barge_in"
    assert fields["LATENCY_MS"] == 87.5
    assert fields["SOURCE"] == "push_to_talk"
    assert fields["SYSLOG_IDENTIFIER"] == "appliance"
    assert fields["LOGGER"] == "appliance.agent"


def test_level_filters_fake_journal_records(restore_root_logger):
    sent: list[str] = []
    setup_logging("warning", {"JOURNAL_STREAM": "1:2"}, journal_sender=lambda m, **f: sent.append(m))
    logging.getLogger("appliance.x").info("chatter")
    logging.getLogger("appliance.x").warning("worth knowing")
    assert sent == ["worth knowing"]


def test_console_shows_fields_as_key_value(restore_root_logger):
    handler = setup_logging("info", {})
    assert isinstance(handler.formatter, FieldsFormatter)
    stream = io.StringIO()
    handler.setStream(stream)
    log_event(logging.getLogger("appliance.agent"), "wake_word", "heard the wake word", score=0.91)
    line = stream.getvalue().strip()
    assert line.endswith("heard the wake word event=wake_word score=0.91")
    assert len(logging.getLogger().handlers) == 1
