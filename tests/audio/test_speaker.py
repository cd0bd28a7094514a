"""The speaker queue on the simulated room: ramps, cuts, and honest sample counts."""

from __future__ import annotations

import threading

import numpy as np
import pytest

from appliance.audio.loop import DuplexLoop
from appliance.audio.room import RoomSettings, SimulatedRoom
from appliance.audio.speaker import Speaker, raised_cosine_fade
from appliance.audio.testing import PeriodRecorder
from appliance.config import AudioSettings
from appliance.messages import SpeechChunk

LEVEL = 20000
DRY_ROOM = RoomSettings(rt60_s=0, echo_delay_ms=0, noise="none")


def rig(rewind: bool = True):
    settings = AudioSettings(backend="sim", cut_rewinds_card=rewind)
    room = SimulatedRoom(DRY_ROOM, settings.period_ms, settings.periods)
    room.open()
    speaker = Speaker(room, settings)
    return room, speaker, DuplexLoop(room, speaker, PeriodRecorder())


@pytest.mark.parametrize("rewind", [True, False])
def test_played_samples_equal_samples_delivered_across_duck_cut_restore(rewind):
    room, speaker, loop = rig(rewind)
    total = 32000
    assert speaker.enqueue_audio(np.full(total, LEVEL, np.int16), 16000) == 0
    loop.run_periods(30)
    speaker.duck(-12.0, 20.0)
    loop.run_periods(20)
    speaker.restore(50.0)
    loop.run_periods(20)
    speaker.duck(-6.0, 10.0)
    loop.run_periods(3)
    speaker.cut()
    loop.run_periods(10)
    assert speaker.played_samples < total  # the cut discarded the rest
    loop.run_periods(10)  # let the modelled card buffer play out
    delivered = np.count_nonzero(room.actual)  # the signal has no zero sample of its own
    assert speaker.played_samples == delivered
    assert speaker.drops == (1 if rewind else 0)
    assert not speaker.is_speaking


def test_gain_changes_are_ramps_never_steps():
    room, speaker, loop = rig()
    speaker.enqueue_audio(np.full(16000, LEVEL, np.int16), 16000)
    loop.run_periods(10)
    speaker.duck(-20.0, 15.0)
    loop.run_periods(10)
    speaker.restore(15.0)
    loop.run_periods(10)
    sent = room.actual.astype(np.float64)
    start = np.flatnonzero(sent)[0]
    steps = np.abs(np.diff(sent[start:]))
    largest_ramp_step = LEVEL * (1 - 10 ** (-20 / 20)) / (15 * 16)
    assert steps.max() <= largest_ramp_step * 1.01 + 1
    assert sent[start:].min() < LEVEL * 0.11  # the duck did happen


def test_cut_fades_from_the_next_unheard_sample():
    room, speaker, loop = rig(rewind=True)
    t = np.arange(32000)
    tone = np.round(LEVEL * np.sin(2 * np.pi * 300 * t / 16000)).astype(np.int16)
    speaker.enqueue_audio(tone, 16000)
    loop.run_periods(40)
    cut_at = room.samples_elapsed
    speaker.cut(10.0)
    loop.run_periods(10)
    sent = room.actual.astype(np.float64)
    tone_step = np.abs(np.diff(sent[cut_at - 3200:cut_at])).max()
    assert np.abs(np.diff(sent[cut_at - 1:])).max() <= tone_step
    assert not sent[cut_at + 160:].any()  # silent after the 10 ms fade
    assert np.abs(sent[cut_at:cut_at + 10]).max() > LEVEL / 2  # ... which started at full level


def test_raised_cosine_fade_shape():
    fade = raised_cosine_fade(160)
    assert fade.size == 160 and 0 < fade[-1] < 1e-3 < 0.999 < fade[0] < 1
    assert np.all(np.diff(fade) < 0)


def test_enqueue_returns_start_index_and_applies_back_pressure():
    room, speaker, loop = rig()
    assert speaker.enqueue(SpeechChunk("one", np.full(1000, LEVEL, np.int16), 16000)) == 0
    with pytest.raises(TimeoutError):
        speaker.enqueue_audio(np.full(500, LEVEL, np.int16), 16000, timeout=0.05)
    loop.run_periods(5)  # 800 played, 200 queued: room again
    assert speaker.enqueue_audio(np.full(500, LEVEL, np.int16), 16000, timeout=0.05) == 1000
    loop.run_periods(15)
    assert speaker.played_samples == 1500


def test_a_cut_releases_a_waiting_enqueue_with_none():
    room, speaker, loop = rig()
    speaker.enqueue_audio(np.full(4000, LEVEL, np.int16), 16000)
    result: list[int | None] = []
    waiter = threading.Thread(target=lambda: result.append(
        speaker.enqueue_audio(np.full(100, LEVEL, np.int16), 16000, timeout=5.0)),
        name="tts-test")
    waiter.start()
    waiter.join(0.2)
    assert waiter.is_alive(), "enqueue should wait while the queue is full"
    speaker.cut()
    loop.run_periods(1)
    waiter.join(2.0)
    assert result == [None]


def test_enqueue_resamples_any_rate():
    room, speaker, loop = rig()
    speaker.enqueue_audio(np.full(22050, 0.5, np.float32), 22050)
    loop.run_periods(120)
    assert speaker.played_samples == pytest.approx(16000, abs=2)


def test_cut_when_silent_leaves_the_card_alone():
    room, speaker, loop = rig()
    loop.run_periods(5)
    speaker.cut()
    loop.run_periods(5)
    assert speaker.drops == 0 and speaker.played_samples == 0


def test_control_from_another_thread_takes_effect_at_the_next_period():
    room, speaker, loop = rig()
    speaker.enqueue_audio(np.full(16000, LEVEL, np.int16), 16000)
    loop.run_periods(4)
    caller = threading.Thread(target=speaker.cut, name="detector-test")
    caller.start()
    caller.join(2.0)
    loop.run_periods(1)
    # 4 periods went out, the 2 the card still held were taken back, then a 10 ms fade.
    assert speaker.played_samples == 4 * 160 - 2 * 160 + 160
    loop.run_periods(5)
    assert speaker.played_samples == 480
