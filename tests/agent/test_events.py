"""The event log: append (never truncate), words only where `[privacy]` allows, bounded memory,
and the journal records (captured through the real JournalHandler) carrying no guest words."""

from __future__ import annotations

import io
import json
import logging
from pathlib import Path

import pytest

from appliance.agent.events import WINDOW, EventLog
from appliance.agent.redact import KEEP_WORDS, redact
from appliance.cli import main
from appliance.config import PrivacySettings
from appliance.errors import ApplianceError
from appliance.runtime.timeline import ConsoleTimeline

GUEST = "my room is 412 and I feel dizzy"
REPLY = "Room 412 is on the fourth floor, near the lift."
SECRETS = ("412", "dizzy", "lift")


def converse(events: EventLog) -> None:
    """One turn with a cut and a re-plan: every event that carries words."""
    events.emit(1.0, "transcript", text=GUEST)
    events.emit(2.0, "agent_speech_start", text=REPLY)
    events.emit(2.5, "barge_in_stop", heard_text="Room 412 is", reply_text=REPLY, onset_t=2.4,
                source="vad")
    events.emit(3.0, "replan", text="no, I feel dizzy")
    events.emit(3.5, "backchannel_resume", resume_text="on the fourth floor")
    events.emit(4.0, "agent_speech_end", text=REPLY)


def test_opening_appends_and_never_truncates(tmp_path):
    path = tmp_path / "events.jsonl"
    path.write_text("previous run\n")
    with EventLog(path) as events:
        events.emit(0.5, "wake")
    lines = path.read_text().splitlines()
    assert lines[0] == "previous run"
    assert json.loads(lines[1]) == {"t": 0.5, "event": "wake"}


def test_a_new_events_file_is_private(tmp_path):
    path = tmp_path / "state" / "events.jsonl"
    with EventLog(path) as events:
        events.emit(0.0, "ready")
    assert path.stat().st_mode & 0o777 == 0o600


def test_a_failed_start_keeps_the_previous_log(tmp_path, capsys):
    """Issue 15 item 1: `appliance run` with a device that does not exist lost the old log."""
    path = tmp_path / "ev.jsonl"
    path.write_text("x\n")
    config = tmp_path / "bad.toml"
    config.write_text('[audio]\ncapture_device = "hw:CARD=NoSuchCard"\n'
                      'playback_device = "hw:CARD=NoSuchCard"\n')
    code = main(["--config", str(config), "run", "--events", str(path)])
    assert code != 0
    assert "Traceback" not in capsys.readouterr().err
    assert path.read_text() == "x\n"


def test_an_events_path_that_cannot_be_opened_is_one_line(tmp_path):
    with pytest.raises(ApplianceError, match="cannot open for appending"):
        EventLog(tmp_path)          # a directory


def test_defaults_keep_timing_kind_and_counts_but_no_words(tmp_path):
    path = tmp_path / "events.jsonl"
    with EventLog(path) as events:
        converse(events)
    text = path.read_text()
    for secret in SECRETS:
        assert secret not in text
    records = [json.loads(line) for line in text.splitlines()]
    assert [r["event"] for r in records] == ["transcript", "agent_speech_start", "barge_in_stop",
                                             "replan", "backchannel_resume", "agent_speech_end"]
    assert records[0] == {"t": 1.0, "event": "transcript", "words": 8, "chars": len(GUEST),
                          "kind": "request"}
    assert records[2] == {"t": 2.5, "event": "barge_in_stop", "heard_words": 3, "reply_words": 10,
                          "onset_t": 2.4, "source": "vad"}
    assert records[4]["resume_words"] == 4


def test_transcript_kinds_are_kept(tmp_path):
    privacy = PrivacySettings()
    kinds = [redact({"t": 0, "event": "transcript", "text": text}, privacy)["kind"]
             for text in ("mm-hmm", "", "uh", "when is dinner")]
    assert kinds == ["backchannel", "empty", "empty", "request"]


def test_log_transcripts_keeps_the_guest_words_only(tmp_path):
    path = tmp_path / "events.jsonl"
    with EventLog(path, PrivacySettings(log_transcripts=True)) as events:
        converse(events)
    records = [json.loads(line) for line in path.read_text().splitlines()]
    assert records[0]["text"] == GUEST and records[3]["text"] == "no, I feel dizzy"
    assert "text" not in records[1] and records[1]["words"] == 10
    assert "heard_text" not in records[2]


def test_log_replies_keeps_the_agent_words(tmp_path):
    path = tmp_path / "events.jsonl"
    with EventLog(path, PrivacySettings(log_replies=True)) as events:
        converse(events)
    records = [json.loads(line) for line in path.read_text().splitlines()]
    assert records[1]["text"] == REPLY and records[2]["heard_text"] == "Room 412 is"
    assert "text" not in records[0] and records[0]["kind"] == "request"


def test_journal_records_carry_no_guest_words_by_default(journal):
    with EventLog() as events:
        converse(events)
    assert len(journal) == 6
    for message, fields in journal:
        everything = message + " " + " ".join(map(str, fields.values()))
        for secret in SECRETS:
            assert secret not in everything
    assert {fields["EVENT"] for _, fields in journal} >= {"transcript", "barge_in_stop"}


def test_journal_records_carry_words_when_turned_on(journal):
    with EventLog(privacy=KEEP_WORDS) as events:
        converse(events)
    assert any(GUEST in message for message, _ in journal)


def test_memory_keeps_a_bounded_window(tmp_path):
    with EventLog(tmp_path / "events.jsonl") as events:
        for index in range(WINDOW + 50):
            events.emit(index, "wake")
        assert len(events.recent) == WINDOW
        assert events.recent[0]["t"] == 50
        assert len(events.named("wake")) == WINDOW


def test_subscribers_get_the_kept_record_unless_they_ask_for_words():
    kept, live = [], []
    with EventLog() as events:
        events.subscribe(kept.append)
        events.subscribe(live.append, words=True)
        events.emit(1.0, "transcript", text=GUEST)
    assert "text" not in kept[0] and kept[0]["words"] == 8
    assert live[0]["text"] == GUEST


def test_a_full_disk_degrades_logging_and_the_kiosk_goes_on(caplog):
    """/dev/full fails every write with ENOSPC, as a full state partition would."""
    full = Path("/dev/full")
    assert full.exists(), "this test needs /dev/full"
    with caplog.at_level(logging.WARNING), EventLog(full) as events:
        for index in range(3):
            record = events.emit(index, "wake")
    assert record == {"t": 2, "event": "wake"}
    warnings = [r for r in caplog.records if "write failed" in r.getMessage()]
    assert len(warnings) == 1, "one warning, not one per event"


def test_the_console_timeline_shows_counts_when_words_are_not_kept():
    stream = io.StringIO()
    with EventLog() as events:
        events.subscribe(ConsoleTimeline(stream))
        converse(events)
    shown = stream.getvalue()
    assert "(8 words, request)" in shown and "CUT; caller heard (3 words)" in shown
    for secret in SECRETS:
        assert secret not in shown
