"""The double-talk decision and the barge-in state machine, commanding the real speaker queue."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from appliance.audio.testing import RecordingSpeaker
from appliance.config import DetectorSettings
from appliance.listen.detector import BargeInDetector, DetectorState, FrameEvidence, is_caller_speech
from appliance.messages import BargeIn, BargeInDuck, BargeInRelease

SETTINGS = DetectorSettings()
FAR_POWER = 10 ** (-25 / 10)  # agent echo reference at -25 dBFS


def _evidence(t: float, vad: float, cleaned_db: float, erle_db: float, speaking: bool = True):
    leak = FAR_POWER * 10 ** (-erle_db / 10)
    return FrameEvidence(t=t, vad_probability=vad, cleaned_power=10 ** (cleaned_db / 10),
                         predicted_leak_power=leak, agent_speaking=speaking)


def _detector(settings: DetectorSettings = SETTINGS):
    speaker, events = RecordingSpeaker(), []
    speaker.play(12345)
    return BargeInDetector(settings, speaker, events.append, frame_ms=10), speaker, events


@pytest.mark.parametrize("erle_db", [10.0, 20.0, 30.0, 40.0])
def test_echo_only_never_onsets_at_any_erle(erle_db):
    detector, speaker, events = _detector()
    rng = np.random.default_rng(int(erle_db))
    for index in range(500):
        # The residual echo swings around the predicted leak; the VAD says "speech" anyway.
        echo_db = -25 - erle_db + rng.uniform(-6, SETTINGS.double_talk_margin_db - 0.5)
        detector.step(_evidence(index * 0.01, vad=0.95, cleaned_db=echo_db, erle_db=erle_db))
    assert speaker.commands == [] and events == []
    assert detector.state is DetectorState.QUIET


@pytest.mark.parametrize("erle_db", [10.0, 20.0, 30.0])
def test_echo_plus_speech_onsets_ducks_then_cuts(erle_db):
    detector, speaker, events = _detector()
    echo_db = -25 - erle_db
    caller_db = echo_db + SETTINGS.double_talk_margin_db + 10
    decisions = [detector.step(_evidence(i * 0.01, 0.9, caller_db, erle_db)) for i in range(30)]
    assert all(decisions)
    assert speaker.commands == ["duck", "cut"]
    duck, cut = events
    assert isinstance(duck, BargeInDuck) and duck.onset_t == 0.0
    assert duck.t == pytest.approx((SETTINGS.onset_ms / 10 - 1) * 0.01)
    assert isinstance(cut, BargeIn) and cut.onset_t == 0.0 and cut.played_samples == 12345
    assert cut.source == "speech"
    assert cut.t == pytest.approx((SETTINGS.confirm_ms / 10 - 1) * 0.01)


def test_decision_needs_vad_level_above_leak_and_floor():
    loud = _evidence(0, 0.9, -30.0, 20.0)
    assert is_caller_speech(loud, SETTINGS)
    assert not is_caller_speech(_evidence(0, 0.2, -30.0, 20.0), SETTINGS)       # VAD says no
    assert not is_caller_speech(_evidence(0, 0.9, -43.0, 20.0), SETTINGS)       # within the leak
    quiet_far = FrameEvidence(0, 0.9, 10 ** (-60 / 10), 1e-12, True)
    assert not is_caller_speech(quiet_far, SETTINGS)                             # below the floor


def test_unconfirmed_onset_is_released_and_restored():
    detector, speaker, events = _detector()
    frames = [(0.9, -20.0)] * 6 + [(0.1, -70.0)] * 40   # 60 ms of speech, then quiet
    for index, (vad, level) in enumerate(frames):
        detector.step(_evidence(index * 0.01, vad, level, 30.0))
    assert speaker.commands == ["duck", "restore"]
    assert [type(e) for e in events] == [BargeInDuck, BargeInRelease]
    assert events[1].t == pytest.approx((6 + SETTINGS.release_ms / 10 - 1) * 0.01)
    assert detector.state is DetectorState.QUIET


def test_speech_with_short_gaps_still_confirms():
    detector, speaker, _ = _detector()
    pattern = ([(0.9, -20.0)] * 5 + [(0.1, -70.0)] * 3) * 6
    for index, (vad, level) in enumerate(pattern):
        detector.step(_evidence(index * 0.01, vad, level, 30.0))
    assert speaker.commands == ["duck", "cut"]


def test_no_onset_while_the_agent_is_silent():
    detector, speaker, events = _detector()
    for index in range(50):
        detector.step(_evidence(index * 0.01, 0.9, -20.0, 30.0, speaking=False))
    assert speaker.commands == [] and events == []


def test_cut_rearms_after_the_caller_falls_silent():
    detector, speaker, _ = _detector()
    for index in range(20):
        detector.step(_evidence(index * 0.01, 0.9, -20.0, 30.0))
    assert detector.state is DetectorState.CUT
    for index in range(20, 20 + SETTINGS.release_ms // 10):
        detector.step(_evidence(index * 0.01, 0.1, -70.0, 30.0))
    assert detector.state is DetectorState.QUIET
    assert speaker.commands == ["duck", "cut"]  # re-arming does not restore a cut agent


@pytest.mark.parametrize("source", ["push_to_talk", "wake_word"])
def test_external_confirmation_cuts_at_once(source):
    detector, speaker, events = _detector()
    detector.confirm(1.5, source)
    detector.confirm(1.6, source)  # already cut: nothing more
    assert speaker.commands == ["cut"] and events == []  # reported once the cut took effect
    detector.step(_evidence(1.51, 0.1, -70.0, 30.0))
    assert len(events) == 1 and events[0].source == source and events[0].onset_t == 1.5
    assert events[0].played_samples == speaker.played_samples == 12345 and events[0].t == 1.5


def test_external_confirmation_during_a_duck_keeps_the_onset_time():
    detector, speaker, events = _detector()
    for index in range(5):
        detector.step(_evidence(index * 0.01, 0.9, -20.0, 30.0))
    detector.confirm(0.2, "push_to_talk")
    detector.report_cut()
    assert speaker.commands == ["duck", "cut"]
    assert events[-1].onset_t == 0.0 and events[-1].t == 0.2


def test_a_soft_onset_ducks_on_weaker_vad_evidence_but_never_cuts_on_it():
    settings = dataclasses.replace(SETTINGS, duck_vad_threshold=0.3)
    detector, speaker, events = _detector(settings)
    erle_db = 20.0
    clear = -25 - erle_db + SETTINGS.double_talk_margin_db + 1  # clears the echo bound, not by +15 dB
    soft = settings.duck_vad_threshold + 0.05                     # under vad_threshold
    for index in range(60):
        detector.step(_evidence(index * 0.01, soft, clear, erle_db))
    assert speaker.commands == ["duck"] and detector.state is DetectorState.DUCKED
    assert isinstance(events[0], BargeInDuck)
    # The same level with the VAD's full evidence cuts after confirm_ms of it.
    for index in range(60, 60 + SETTINGS.confirm_ms // 10):
        detector.step(_evidence(index * 0.01, 0.9, clear, erle_db))
    assert speaker.commands == ["duck", "cut"]
    # Under duck_vad_threshold nothing happens at all.
    detector, speaker, events = _detector(settings)
    for index in range(60):
        detector.step(_evidence(index * 0.01, settings.duck_vad_threshold - 0.05, clear, erle_db))
    assert speaker.commands == [] and events == []


def test_a_residual_far_above_the_echo_bound_ducks_before_the_vad_agrees_but_never_cuts():
    settings = dataclasses.replace(SETTINGS, duck_energy_margin_db=12.0)
    erle_db = 20.0
    bound_db = -25 - erle_db
    detector, speaker, events = _detector(settings)
    for index in range(60):  # a soft real onset: loud, but Silero still at 0.1
        detector.step(_evidence(index * 0.01, 0.1, bound_db + 13.0, erle_db))
    assert speaker.commands == ["duck"] and detector.state is DetectorState.DUCKED
    assert isinstance(events[0], BargeInDuck) and events[0].onset_t == 0.0
    # A cough is loud enough for the loud-onset path (VAD 0.3, +20 dB): after a duck on
    # loudness alone it still does not cut; the VAD's full evidence does, after confirm_ms.
    for index in range(60, 120):
        detector.step(_evidence(index * 0.01, 0.3, bound_db + 20.0, erle_db))
    assert speaker.commands == ["duck"]
    for index in range(120, 120 + SETTINGS.confirm_ms // 10):
        detector.step(_evidence(index * 0.01, 0.9, bound_db + 20.0, erle_db))
    assert speaker.commands == ["duck", "cut"]
    # Under the energy margin (12 dB here, 15 by default): nothing at all.
    for quieter, used in ((bound_db + 11.0, settings), (bound_db + 13.0, SETTINGS)):
        detector, speaker, events = _detector(used)
        for index in range(60):
            detector.step(_evidence(index * 0.01, 0.1, quieter, erle_db))
        assert speaker.commands == [] and events == []
