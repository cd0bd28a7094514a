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


def test_scores_match_openwakeword_itself(config, speak):
    """The in-house streaming steps give openWakeWord 0.5.1's own scores, frame by frame.

    Only the first 16 frames may differ: both start their embedding history
    from noise (openWakeWord's unseeded).
    """
    from openwakeword.model import Model

    models = config.models_dir()
    theirs = Model(wakeword_models=[str(models / "hey_jarvis_v0.1.onnx")], inference_framework="onnx",
                   melspec_model_path=str(models / "melspectrogram.onnx"),
                   embedding_model_path=str(models / "embedding_model.onnx"))
    ours = WakeWordDetector(config.wake, models)
    audio = np.concatenate([speak("The lift is on the left.", pad_s=1.0), speak("Hey Jarvis!")])
    frames = [audio[i:i + FRAME_SAMPLES] for i in range(0, len(audio) - FRAME_SAMPLES + 1, FRAME_SAMPLES)]
    their_scores = np.array([theirs.predict(frame)["hey_jarvis_v0.1"] for frame in frames])
    our_scores = np.array([ours.score(frame) for frame in frames])
    assert their_scores.max() > 0.5, "the reference never fired: the comparison would be empty"
    assert np.abs(their_scores[20:] - our_scores[20:]).max() < 0.02


def test_audio_in_10_ms_periods_fires_as_in_whole_frames(config, speak):
    """The loop and the bench feed 10 ms periods; the detector scores whole 80 ms frames."""
    audio = np.concatenate([speak("Hey Jarvis!", pad_s=1.0), np.zeros(700, np.int16)])
    whole = WakeWordDetector(config.wake, config.models_dir())
    periods = WakeWordDetector(config.wake, config.models_dir())
    by_frame = detections(whole, audio)
    by_period = [event for start in range(0, len(audio) - 160 + 1, 160)
                 if (event := periods.process(audio[start:start + 160], t=start / 16000)) is not None]
    assert len(by_frame) == 1 and len(by_period) == 1
    assert by_period[0].score == by_frame[0].score
    assert by_period[0].t == pytest.approx(by_frame[0].t, abs=1e-9)
