"""Faults inside a turn, on the real pipeline in the simulated room (issue 15).

Each fault comes from a faulty twin handed to the `Kiosk` constructor (a
recogniser or a voice that raises, a clause source that never returns) or
from the OS (/dev/full for the event log). The kiosk must end the turn with
an `error` event, pass through `State.ERROR`, keep listening, and answer the
next question.
"""

from __future__ import annotations

import dataclasses
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from test_turns import Stepper, _say

from appliance.agent.events import EventLog
from appliance.agent.redact import KEEP_WORDS
from appliance.agent.turns import Kiosk, Voice
from appliance.audio.room import RoomSettings, SimulatedRoom
from appliance.config import Config
from appliance.messages import BargeInDuck, State
from appliance.runtime.pipeline import Pipeline

pytestmark = pytest.mark.slow   # a whole pipeline: VAD, ASR, TTS

QUESTION = "Can you tell me about breakfast and dinner?"


class FlakySynthesizer:
    """Fake TTS: raises on the first `failures` clauses, then is the real voice."""

    def __init__(self, synthesize, failures: int = 1) -> None:
        self._synthesize, self.failures = synthesize, failures

    def __call__(self, clause: str):
        if self.failures:
            self.failures -= 1
            raise RuntimeError("injected fault: the voice model crashed")
        return self._synthesize(clause)


class FlakyRecognizer:
    """Fake ASR around the real one: `accept` raises once, then everything is real."""

    def __init__(self, recognizer) -> None:
        self._recognizer, self.failures = recognizer, 1

    def accept(self, samples):
        if self.failures:
            self.failures -= 1
            raise OSError("injected fault: the recogniser lost its decoder")
        return self._recognizer.accept(samples)

    def __getattr__(self, name: str):
        return getattr(self._recognizer, name)


class HungClauses:
    """Fake LLM clause source whose first reply never returns (until the test ends)."""

    def __init__(self, real) -> None:
        self._real, self.release, self.calls = real, threading.Event(), 0

    def __call__(self, conversation) -> Iterator[str]:
        self.calls += 1
        return self._hang() if self.calls == 1 else self._real(conversation)

    def _hang(self) -> Iterator[str]:
        self.release.wait()
        yield from ()


@pytest.fixture()
def room_pipeline(tmp_path):
    """A booted pipeline in the simulated room; the test may swap in its own Kiosk."""
    def build(config: Config | None = None, events_path: Path | None = None):
        room = SimulatedRoom(RoomSettings(echo_gain_db=-3.0, rt60_s=0.2, seed=3))
        room.open()
        events = EventLog(events_path or tmp_path / "events.jsonl", KEEP_WORDS)
        pipeline = Pipeline(config or Config(), room, events)
        opened.append((room, events, pipeline))
        stepper = Stepper(pipeline, room)
        pipeline.boot()
        stepper.until(lambda: not pipeline.frontend.calibrating, "the calibration burst")
        return pipeline, room, stepper, events

    opened: list = []
    yield build
    for room, events, pipeline in opened:
        pipeline.kiosk.close()   # it may be the test's own Kiosk, unknown to the pipeline
        pipeline.close()
        events.close()
        room.close()


def with_kiosk(pipeline: Pipeline, events: EventLog, *, voice: Voice | None = None,
               recognizer=None) -> Kiosk:
    """A Kiosk built from the pipeline's parts with faulty twins in place of some."""
    pipeline.kiosk.close()
    pipeline.kiosk = Kiosk(pipeline.config, speaker=pipeline.speaker, confirm=pipeline.frontend.confirm,
                           recognizer=recognizer or pipeline.recognizer, voice=voice or pipeline.voice,
                           events=events)
    return pipeline.kiosk


def ask(pipeline, room, stepper, what: str) -> None:
    kiosk = pipeline.kiosk
    if kiosk.state is State.IDLE:
        kiosk.push_to_talk(stepper.t)
    assert kiosk.state is State.LISTENING, f"{what}: the kiosk is {kiosk.state}, not listening"
    _say(pipeline, room, QUESTION)


def states(events: EventLog) -> list[str]:
    return [record["state"] for record in events.named("state")]


def test_tts_raising_ends_the_turn_with_an_error_and_the_next_turn_is_answered(room_pipeline):
    pipeline, room, stepper, events = room_pipeline()
    voice = FlakySynthesizer(pipeline.voice.synthesize)
    kiosk = with_kiosk(pipeline, events, voice=dataclasses.replace(pipeline.voice, synthesize=voice))
    ask(pipeline, room, stepper, "first question")
    stepper.until(lambda: events.named("error"), "the error event")
    error = events.named("error")[0]
    assert error["stage"] == "tts" and "voice model crashed" in error["message"]
    assert states(events)[-2:] == ["error", "listening"]
    assert kiosk.state is State.LISTENING
    ask(pipeline, room, stepper, "second question")
    stepper.until(lambda: kiosk.state is State.SPEAKING, "the answer to the second question")
    assert events.named("agent_speech_start")


def test_asr_raising_ends_the_turn_with_an_error_and_the_next_turn_is_answered(room_pipeline):
    pipeline, room, stepper, events = room_pipeline()
    recognizer = FlakyRecognizer(pipeline.recognizer)
    kiosk = with_kiosk(pipeline, events, recognizer=recognizer)
    ask(pipeline, room, stepper, "first question")
    stepper.until(lambda: events.named("error"), "the error event")
    error = events.named("error")[0]
    assert error["stage"] == "asr" and "lost its decoder" in error["message"]
    assert states(events)[-2:] == ["error", "listening"] and kiosk.state is State.LISTENING
    # Still listening: the rest of the question (the caller is still talking) is
    # heard as a new utterance and answered; the failed part is simply lost.
    stepper.until(lambda: kiosk.state is State.SPEAKING, "an answer after the fault")
    heard = [r for r in events.named("transcript") if r["t"] > error["t"]]
    assert heard and heard[-1]["text"], "nothing was heard after the fault"


def test_a_reply_that_never_comes_is_given_up_and_the_fallback_is_spoken(room_pipeline):
    config = Config()
    config = dataclasses.replace(config, llm=dataclasses.replace(config.llm, timeout_s=1.0))
    pipeline, room, stepper, events = room_pipeline(config)
    clauses = HungClauses(pipeline.voice.clauses)
    kiosk = with_kiosk(pipeline, events, voice=dataclasses.replace(pipeline.voice, clauses=clauses))
    try:
        ask(pipeline, room, stepper, "the question")
        stepper.until(lambda: kiosk.state is State.SPEAKING, "the fallback")
        error = events.named("error")[0]
        assert error["stage"] == "llm" and "fallback" in error["message"]
        spoken = events.named("agent_speech_start")[0]["text"]
        assert spoken and config.llm.fallback_text.startswith(spoken.strip())
        stepper.until(lambda: events.named("agent_speech_end"), "the end of the fallback")
        assert events.named("agent_speech_end")[0]["text"].strip() == config.llm.fallback_text.strip()
    finally:
        clauses.release.set()


def test_a_full_events_disk_degrades_logging_and_the_kiosk_keeps_talking(room_pipeline):
    full = Path("/dev/full")   # every write fails with ENOSPC: a real full disk, no mount needed
    if not full.exists():
        pytest.fail("/dev/full is missing: cannot simulate a full disk here")
    pipeline, room, stepper, events = room_pipeline(events_path=full)
    ask(pipeline, room, stepper, "the question")
    stepper.until(lambda: pipeline.kiosk.state is State.SPEAKING, "the answer")
    assert events.degraded, "the events never reached the full disk"
    assert events.named("transcript") and events.named("agent_speech_start")


def test_a_duck_as_the_reply_ends_does_not_leave_the_kiosk_deaf(room_pipeline):
    """Found by the soak: a duck just before the agent finished left the barge-in
    candidate open; it never endpoints, so nothing was heard again."""
    pipeline, room, stepper, events = room_pipeline()
    kiosk = pipeline.kiosk
    ask(pipeline, room, stepper, "the question")
    stepper.until(lambda: kiosk.state is State.SPEAKING, "the answer")
    kiosk.on_detector_event(BargeInDuck(t=stepper.t, onset_t=stepper.t))   # never released
    stepper.until(lambda: events.named("agent_speech_end"), "the end of the answer")
    ended = events.named("agent_speech_end")[-1]["t"]
    ask(pipeline, room, stepper, "the next question")
    stepper.until(lambda: any(r["t"] > ended for r in events.named("transcript")),
                  "the next question heard")
