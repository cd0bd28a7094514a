"""openWakeWord on speech from the real TTS: one detection per spoken wake word, none otherwise."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from appliance.errors import ModelError
from appliance.speech.wake import FRAME_SAMPLES, WakeWordDetector


@pytest.fixture(scope="module")
def detector(config):
    with WakeWordDetector(config.wake, config.models_dir()) as wake:
        yield wake


def detections(detector, samples: np.ndarray) -> list:
    events = []
    for start in range(0, len(samples) - FRAME_SAMPLES + 1, FRAME_SAMPLES):
        event = detector.process(samples[start:start + FRAME_SAMPLES], t=start / 16000)
        if event is not None:
            events.append(event)
    return events


def test_spoken_hey_jarvis_fires_once_per_utterance_at_the_right_time(detector, speak):
    phrase = speak("Hey Jarvis!", pad_s=1.0)
    events = detections(detector, np.concatenate([phrase, phrase]))
    assert [e.model for e in events] == ["hey_jarvis", "hey_jarvis"]
    phrase_s = len(phrase) / 16000
    assert 1.0 < events[0].t < phrase_s
    assert phrase_s + 1.0 < events[1].t < 2 * phrase_s
    assert all(e.score >= 0.5 for e in events)


def test_other_speech_does_not_fire(detector, speak):
    assert detections(detector, speak("Your room is on the fourth floor, next to the lifts.")) == []


def test_unknown_wake_model_is_one_line_error(config):
    with pytest.raises(ModelError, match="hey_nobody"):
        WakeWordDetector(dataclasses.replace(config.wake, model="hey_nobody"), config.models_dir())
