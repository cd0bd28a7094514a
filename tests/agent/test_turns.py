"""Turn-taking on the real pipeline in the simulated room, stepped period by period."""

from __future__ import annotations

import numpy as np
import pytest

from appliance.agent.events import EventLog
from appliance.agent.redact import KEEP_WORDS
from appliance.audio.room import RoomSettings, SimulatedRoom
from appliance.audiofile import resample
from appliance.config import Config
from appliance.messages import SAMPLE_RATE_HZ, State
from appliance.runtime.pipeline import Pipeline

pytestmark = pytest.mark.slow   # a whole pipeline: VAD, ASR, TTS

LIMIT_S = 40.0


class Stepper:
    """Runs the pipeline in room time, waiting for compute like `appliance sim` does."""

    def __init__(self, pipeline: Pipeline, room: SimulatedRoom) -> None:
        self.pipeline, self.room = pipeline, room

    @property
    def t(self) -> float:
        return self.room.samples_elapsed / SAMPLE_RATE_HZ

    def until(self, condition, what: str) -> None:
        while not condition():
            assert self.t < LIMIT_S, f"{what} did not happen within {LIMIT_S} s of room time"
            if self.pipeline.kiosk.awaiting_speech:
                self.pipeline.kiosk.wait_for_speech(timeout=30.0)
            self.pipeline.loop.step()
            self.pipeline.pump()


@pytest.fixture()
def kiosk(tmp_path):
    room = SimulatedRoom(RoomSettings(echo_gain_db=-3.0, rt60_s=0.2, seed=3))
    room.open()
    config = Config()
    with (EventLog(tmp_path / "events.jsonl", KEEP_WORDS) as events,
          Pipeline(config, room, events) as pipeline):
        stepper = Stepper(pipeline, room)
        pipeline.boot()
        stepper.until(lambda: not pipeline.frontend.calibrating, "the calibration burst")
        yield pipeline, room, stepper, events
    room.close()


def _say(pipeline: Pipeline, room: SimulatedRoom, text: str) -> None:
    audio = np.concatenate([resample(c.samples, c.rate_hz) for c in pipeline.tts.synthesize(text)])
    room.add_caller(audio, room.samples_elapsed)


def _ask_a_question(pipeline, room, stepper):
    kiosk = pipeline.kiosk
    kiosk.push_to_talk(stepper.t)                      # a tap while idle: listen
    assert kiosk.state is State.LISTENING
    _say(pipeline, room, "Can you tell me about breakfast and dinner?")
    stepper.until(lambda: kiosk.state is State.SPEAKING, "the answer")


def test_push_to_talk_during_speech_cuts_the_agent_and_nothing_stale_plays(kiosk):
    pipeline, room, stepper, events = kiosk
    _ask_a_question(pipeline, room, stepper)
    stepper.until(lambda: pipeline.kiosk.words_played() >= 2, "two words of the answer")
    pressed_at = room.samples_elapsed
    pipeline.kiosk.push_to_talk(stepper.t)
    stepper.until(lambda: events.named("barge_in_stop"), "the cut")
    stop = events.named("barge_in_stop")[0]
    assert stop["source"] == "push_to_talk"
    assert stop["reply_text"].startswith(stop["heard_text"]) and stop["heard_text"]
    assert pipeline.kiosk.state is State.YIELDING
    cut_done = pressed_at + int(0.06 * SAMPLE_RATE_HZ)  # next period, fade, card queue
    stepper.until(lambda: room.samples_elapsed > cut_done + SAMPLE_RATE_HZ, "a second after the cut")
    after = room.actual[cut_done:]
    assert np.abs(after).max() < 100, "the agent kept talking after the cut"


def test_silence_after_a_push_to_talk_cut_resumes_the_sentence(kiosk):
    pipeline, room, stepper, events = kiosk
    _ask_a_question(pipeline, room, stepper)
    stepper.until(lambda: pipeline.kiosk.words_played() >= 1, "the first word")
    pipeline.kiosk.push_to_talk(stepper.t)
    stepper.until(lambda: events.named("false_interruption_resume")
                  or events.named("state")[-1]["state"] == "listening", "the resume")
    resumed = events.named("false_interruption_resume")
    cut = events.named("barge_in_stop")[0]
    assert resumed, "a press with no words after it must not lose the rest of the sentence"
    rest = resumed[0]["resume_text"]
    assert rest and cut["reply_text"].startswith(cut["heard_text"])
    history = pipeline.kiosk.conversation.messages
    assert history[-1].role == "assistant" and history[-1].text.startswith(cut["heard_text"])
    assert rest in history[-1].text
