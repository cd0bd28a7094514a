"""The duplex loop: step mode, its thread, and what it tells the sink."""

from __future__ import annotations

import logging
import os
import threading

import numpy as np

from appliance.audio.factory import open_device
from appliance.audio.loop import DuplexLoop
from appliance.audio.room import RoomSettings
from appliance.audio.speaker import Speaker
from appliance.audio.testing import PeriodRecorder
from appliance.config import AudioSettings

SETTINGS = AudioSettings(backend="sim", realtime_priority=0)


def rig(settings: AudioSettings = SETTINGS):
    device = open_device(settings, RoomSettings(rt60_s=0))
    speaker = Speaker(device, settings)
    recorder = PeriodRecorder()
    return device, speaker, recorder, DuplexLoop(device, speaker, recorder, settings.realtime_priority)


def test_step_mode_hands_the_sink_exactly_what_was_played():
    device, speaker, recorder, loop = rig()
    signal = (np.arange(800) % 200 + 1).astype(np.int16)
    speaker.enqueue_audio(signal, 16000)
    loop.run_periods(8)
    assert loop.periods_done == 8
    sent = recorder.sent()
    assert np.array_equal(sent[:800], signal) and not sent[800:].any()
    assert recorder.delays == [320] * 8
    # what the card played two periods later is what the sink was told was played
    assert np.array_equal(device.actual[320:1280], sent[:960])


def test_realign_is_reported_after_a_cut_drops_the_card_buffer():
    device, speaker, recorder, loop = rig()
    speaker.enqueue_audio(np.full(3200, 1000, np.int16), 16000)
    loop.run_periods(5)
    speaker.cut()
    loop.run_periods(3)
    assert recorder.realigned_at == [5]


def test_thread_is_named_runs_and_stops():
    device, speaker, recorder, loop = rig()
    with loop:
        recorder.wait_periods(50)
        names = [thread.name for thread in threading.enumerate()]
        assert "duplex-loop" in names
    assert not loop.running and loop.periods_done >= 50
    loop.close()  # twice is fine
    assert "duplex-loop" not in [thread.name for thread in threading.enumerate()]


def test_realtime_priority_is_applied_or_logged_once(caplog):
    settings = AudioSettings(backend="sim", realtime_priority=10)
    device, speaker, recorder, loop = rig(settings)
    policies: list[int] = []

    class PolicyProbe(PeriodRecorder):
        def on_period(self, *args) -> None:
            if not policies:
                policies.append(os.sched_getscheduler(0))
            super().on_period(*args)

    probe = PolicyProbe()
    loop = DuplexLoop(device, speaker, probe, settings.realtime_priority)
    with caplog.at_level(logging.WARNING, logger="appliance.audio.loop"), loop:
        probe.wait_periods(3)
    refused = [record for record in caplog.records if "SCHED_FIFO" in record.getMessage()]
    assert policies[0] == os.SCHED_FIFO or len(refused) == 1
