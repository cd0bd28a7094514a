"""The conversation's events are a public log format: names and field order pinned here."""

from __future__ import annotations

import dataclasses
import json

import pytest

from appliance.agent.events import EventLog
from appliance.agent.redact import GUEST_FIELDS, KEEP_WORDS, REPLY_FIELDS
from appliance.agent.vocabulary import EVENT_TYPES, AgentCut, StateChanged, Wake

FORMAT = {
    "ready": (), "wake": (), "user_speech_start": (), "user_speech_end": (),
    "partial_transcript": ("text",), "transcript": ("text",), "llm_first_token": ("latency_ms",),
    "agent_speech_start": ("text",), "agent_speech_end": ("text",),
    "barge_in_duck": ("onset_t",), "barge_in_release": ("onset_t",),
    "barge_in_stop": ("heard_text", "onset_t", "source", "reply_text", "played_samples"),
    "backchannel_resume": ("resume_text",), "false_interruption_resume": ("resume_text",),
    "replan": ("text",), "state": ("state",), "error": ("stage", "message"),
}


def test_every_event_keeps_its_name_and_fields_in_order():
    declared = {name: tuple(f.name for f in dataclasses.fields(kind)) for name, kind in EVENT_TYPES.items()}
    assert declared == FORMAT


def test_a_typed_event_is_written_as_before(tmp_path):
    path = tmp_path / "events.jsonl"
    with EventLog(path, KEEP_WORDS) as events:
        events.emit(2.5, AgentCut(heard_text="Room 412 is", onset_t=2.4, source="speech",
                                  reply_text="Room 412 is on the fourth floor.", played_samples=16000))
        events.emit(3.0, StateChanged(state="yielding"))
        events.emit(3.25, Wake())
    assert path.read_text().splitlines() == [
        '{"t": 2.5, "event": "barge_in_stop", "heard_text": "Room 412 is", "onset_t": 2.4, '
        '"source": "speech", "reply_text": "Room 412 is on the fourth floor.", "played_samples": 16000}',
        '{"t": 3.0, "event": "state", "state": "yielding"}',
        '{"t": 3.25, "event": "wake"}',
    ]


def test_words_are_declared_with_the_types():
    assert GUEST_FIELDS == {"transcript": ("text",), "partial_transcript": ("text",), "replan": ("text",)}
    assert REPLY_FIELDS == {"agent_speech_start": ("text",), "agent_speech_end": ("text",),
                            "barge_in_stop": ("heard_text", "reply_text"),
                            "backchannel_resume": ("resume_text",),
                            "false_interruption_resume": ("resume_text",)}


def test_a_name_or_field_outside_the_table_is_refused():
    with EventLog() as events:
        with pytest.raises(ValueError, match="unknown event"):
            events.emit(1.0, "barge_in")
        with pytest.raises(ValueError, match="no field txet"):
            events.emit(1.0, "transcript", txet="hello")
        with pytest.raises(TypeError):
            events.emit(1.0, Wake(), text="extra")
        assert json.dumps(events.emit(1.0, "transcript", text="hi")) == \
            '{"t": 1.0, "event": "transcript", "words": 1, "chars": 2, "kind": "request"}'
