"""Bench measurements from synthetic planned/actual signals with known answers."""

from __future__ import annotations

import numpy as np
import pytest

from appliance.bench import metrics
from appliance.bench.metrics import FRAME, Timing

RATE = 16000


def _tone(seconds: float, level: float = 0.3) -> np.ndarray:
    t = np.arange(int(seconds * RATE)) / RATE
    return level * np.sin(2 * np.pi * 220 * t)


def test_first_speech_sample_is_the_first_frame_within_30_db_of_the_loudest():
    caller = np.concatenate([np.zeros(800), _tone(0.1, 0.001), _tone(0.2, 0.5)])
    assert metrics.first_speech_sample(caller) == 800 + 1600
    as_int16 = np.round(caller * 32767).astype(np.int16)  # as read_wav returns it
    assert metrics.first_speech_sample(as_int16) == 800 + 1600


def test_duck_and_silence_latencies_from_signals():
    planned = _tone(3.0)
    actual = planned.copy()
    onset = RATE  # 1.0 s
    actual[onset + 800:] *= 0.3          # ducked 50 ms after the onset (-10.5 dB)
    actual[onset + 2400:] = 0.0          # silent 150 ms after the onset
    timing = metrics.onset_timing(planned, actual, onset, duck_extra_ms=1.5, silence_extra_ms=2.0)
    assert timing.duck_ms == pytest.approx(51.5)
    assert timing.silence_ms == pytest.approx(152.0)
    assert timing.silence_sample == onset + 2400


def test_silence_needs_100_ms_while_the_plan_is_speaking():
    planned = np.concatenate([_tone(1.0), np.zeros(RATE), _tone(1.0)])
    actual = planned.copy()
    assert metrics.silence_frames(planned, actual, 0) == []   # a planned pause is no silence
    actual[int(1.5 * RATE):] = 0                               # cut during the pause
    # A cut inside a pause is a silence from the moment the plan speaks again.
    assert metrics.silence_frames(planned, actual, 0)[0] == 200


def test_a_pause_of_the_agents_own_before_a_duck_is_no_silence():
    """The "mm-hmm" case: onset in a sentence pause, the next word ducked, then cut 50 ms later."""
    planned = np.concatenate([_tone(1.0), np.zeros(int(0.3 * RATE)), _tone(1.0)])
    actual = planned.copy()
    resume = int(1.3 * RATE)
    actual[resume:] *= 0.1                       # ducked by 20 dB: still above -40 dBFS
    actual[resume + 800:] = 0.0                  # cut 50 ms into the next word
    onset_frame = 110                            # in the pause
    assert metrics.silence_frames(planned, actual, onset_frame)[0] == 135


def test_words_lost_after_a_resume_from_the_cut_word():
    rng = np.random.default_rng(0)
    planned = np.repeat(rng.uniform(0.1, 0.5, 40), 1600) * np.sign(rng.standard_normal(64000))
    word_starts = [i * 16000 for i in range(4)]
    word_ends = [s + 14000 for s in word_starts]
    cut = 20000                                  # in the middle of word 2 (index 1)
    gap = np.zeros(8000)
    resumed_ok = np.concatenate([planned[:cut], gap, planned[16000:]])
    resumed_late = np.concatenate([planned[:cut], gap, planned[32000:]])
    stopped = np.concatenate([planned[:cut], np.zeros(44000)])
    assert metrics.words_lost(planned, resumed_ok, cut, word_starts, word_ends) == 0
    assert metrics.words_lost(planned, resumed_late, cut, word_starts, word_ends) == 1
    assert metrics.words_lost(planned, stopped, cut, word_starts, word_ends) is None


def test_words_heard_before_silence():
    assert metrics.words_heard_before([100, 200, 300], 250) == 2
    assert metrics.words_heard_before([100, 200, 300], None) == 3


def test_erle_only_after_5_s_and_before_the_onset():
    planned = _tone(8.0)
    mic = planned * 0.5
    residual = mic * 0.01                         # 40 dB below
    residual[: 5 * RATE] = mic[: 5 * RATE]        # unconverged start is skipped
    assert metrics.erle_db(mic, residual, planned, planned, None) == pytest.approx(40.0, abs=0.1)
    assert metrics.erle_db(mic, residual, planned, planned, 4 * RATE) is None


@pytest.mark.parametrize("kind,timing,lost,ducked,expected", [
    ("interrupt", Timing(50.0, 180.0, 100), None, True, "stopped"),
    ("interrupt", Timing(50.0, 1200.0, 100), None, True, "missed"),
    ("interrupt", Timing(None, None, None), None, False, "missed"),
    ("interrupt", Timing(50.0, 180.0, 100), 0, True, "resumed"),
    ("backchannel", Timing(50.0, 180.0, 100), 0, True, "resumed"),
    ("backchannel", Timing(50.0, None, None), None, True, "resumed"),
    ("backchannel", Timing(50.0, 180.0, 100), None, True, "stopped"),
    ("noise", Timing(None, None, None), None, False, "continued"),
    ("noise", Timing(50.0, 180.0, 100), None, True, "false_stop"),
    ("echo-only", Timing(50.0, 180.0, 100), 2, True, "false_stop"),
    ("echo-only", Timing(50.0, 180.0, 100), 0, True, "resumed"),
])
def test_outcome(kind, timing, lost, ducked, expected):
    assert metrics.outcome(kind, timing, lost, ducked) == expected


def test_frames_are_10_ms():
    assert FRAME == 160
