"""The front end on real speex and Silero with a synthetic echo path.

The echo path here is a plain delay + gain + short decay (numpy), not the
simulated room, so the test pins the front end's own behaviour: echo alone
never ducks the agent at any echo gain; a person talking over it does.
"""

from __future__ import annotations

import numpy as np
import pytest

from appliance.audio.testing import RecordingSpeaker
from appliance.audiofile import read_wav
from appliance.config import AecSettings, Config, DetectorSettings
from appliance.listen.frontend import FrontEnd, VadInput
from appliance.listen.vad import MODEL_FILE
from appliance.messages import BargeIn, BargeInDuck
from appliance.models import require

PERIOD = 160
SOUNDS = "/usr/share/sounds/alsa/"


@pytest.fixture(scope="module")
def vad_model():
    return require(MODEL_FILE, Config().models_dir())


def _agent_speech() -> np.ndarray:
    words = [read_wav(SOUNDS + name) for name in ("Front_Center.wav", "Front_Left.wav",
                                                 "Side_Right.wav", "Rear_Center.wav")]
    return np.concatenate(words)


def _echo(played: np.ndarray, gain_db: float, delay: int = 200) -> np.ndarray:
    path = np.zeros(delay + 800)
    path[delay] = 1.0
    path[delay + 1:] = 0.3 * np.random.default_rng(0).standard_normal(799) * np.exp(
        -np.arange(799) / 160.0) / 10
    echo = np.convolve(played.astype(np.float64), path)[: len(played)] * 10 ** (gain_db / 20)
    return echo


def _run(vad_model, gain_db: float, caller: np.ndarray | None = None, caller_at: int = 0):
    speaker = RecordingSpeaker()
    with FrontEnd(AecSettings(), DetectorSettings(), speaker, vad_model) as frontend:
        burst = frontend.calibration_burst()
        played = np.concatenate([burst, np.zeros(8000, np.int16), _agent_speech()])
        mic = _echo(played, gain_db)
        if caller is not None:
            start = len(burst) + 8000 + caller_at
            mic[start:start + len(caller)] += caller[: len(mic) - start]
        mic += np.random.default_rng(1).standard_normal(len(mic)) * 10  # -70 dBFS floor
        mic16 = np.clip(np.round(mic), -32768, 32767).astype(np.int16)
        for start in range(0, len(played) - PERIOD + 1, PERIOD):
            frontend.on_period(mic16[start:start + PERIOD], played[start:start + PERIOD],
                               start / 16000, 0, False)
        events = []
        while not frontend.events.empty():
            events.append(frontend.events.get_nowait())
        return speaker, events, frontend.tracker.erle_db


@pytest.mark.parametrize("gain_db", [-10.0, 0.0, 6.0])
def test_echo_alone_never_ducks(vad_model, gain_db):
    speaker, events, erle = _run(vad_model, gain_db)
    assert speaker.commands == [] and events == []
    assert erle is not None and erle > 10.0


def test_caller_over_the_echo_ducks_then_cuts(vad_model):
    caller = read_wav(SOUNDS + "Rear_Right.wav")
    speaker, events, _ = _run(vad_model, 0.0, caller, caller_at=8000)
    assert speaker.commands[:2] == ["duck", "cut"]
    assert isinstance(events[0], BargeInDuck) and isinstance(events[1], BargeIn)
    assert events[1].onset_t == events[0].onset_t


def test_listeners_get_cleaned_frames_and_a_full_queue_drops_the_oldest(vad_model):
    with FrontEnd(AecSettings(), DetectorSettings(), RecordingSpeaker(), vad_model) as frontend:
        listener = frontend.subscribe(maxsize=3)
        silence = np.zeros(PERIOD, np.int16)
        for index in range(5):
            frontend.on_period(silence, silence, index * 0.01, 0, False)
        assert listener.qsize() == 3
        assert [listener.get_nowait().t for _ in range(3)] == pytest.approx([0.02, 0.03, 0.04])
        assert frontend.dropped_frames == 2


def test_calibration_holds_the_detector_until_the_burst_has_passed(vad_model):
    with FrontEnd(AecSettings(pretrain_s=1.0), DetectorSettings(), RecordingSpeaker(), vad_model) as fe:
        burst = fe.calibration_burst()
        assert len(burst) == 16000 and fe.calibrating
        for start in range(0, len(burst), PERIOD):
            fe.on_period(burst[start:start + PERIOD], burst[start:start + PERIOD], 0.0, 0, False)
        assert fe.calibrating  # the echo tail still has to pass
        silence = np.zeros(PERIOD, np.int16)
        for _ in range(60):
            fe.on_period(silence, silence, 0.0, 0, False)
        assert not fe.calibrating
        assert fe.clock.stages["aec"].calls == 160 and fe.clock.cpu_s > 0


def test_20_ms_aec_frames_take_two_10_ms_periods(vad_model):
    speech = _agent_speech()[: 16000]
    results = {}
    for frame_ms in (10, 20):
        with FrontEnd(AecSettings(frame_ms=frame_ms), DetectorSettings(), RecordingSpeaker(),
                      vad_model) as frontend:
            listener = frontend.subscribe(maxsize=200)
            mic = np.round(_echo(speech, 0.0)).astype(np.int16)
            for start in range(0, len(speech), PERIOD):
                frontend.on_period(mic[start:start + PERIOD], speech[start:start + PERIOD],
                                   start / 16000, 0, False)
            frames = [listener.get_nowait() for _ in range(listener.qsize())]
            results[frame_ms] = frames
            assert frontend.samples_processed == len(speech)
    assert len(results[10]) == 100 and len(results[20]) == 50
    assert [f.t for f in results[20][:3]] == pytest.approx([0.0, 0.02, 0.04])
    assert all(len(f.samples) == 320 for f in results[20])


def test_vad_listens_to_the_suppressed_signal_where_the_residual_is_mostly_echo():
    residual, cleaned = np.zeros(160, np.int16), np.ones(160, np.int16)
    chooser = VadInput(DetectorSettings(), frame_s=0.01, time_constant_s=1.0)
    assert chooser.choose(residual, cleaned) is residual
    chooser.echo_frame(0.1, erle_db=30.0)
    assert chooser.choose(residual, cleaned) is residual
    chooser.echo_frame(0.1, erle_db=10.0)                 # the linear canceller is struggling
    assert chooser.choose(residual, cleaned) is cleaned
    chooser.echo_frame(0.1, erle_db=30.0)
    assert chooser.choose(residual, cleaned) is residual
    for _ in range(100):                                   # the VAD hears the agent's own echo
        chooser.echo_frame(0.9, erle_db=30.0)
    assert chooser.cleaned and chooser.echo_speech_rate > 0.25
    never = DetectorSettings(vad_cleaned_below_erle_db=-100, vad_cleaned_above_echo_rate=1.0)
    chooser = VadInput(never, frame_s=0.01, time_constant_s=1.0)
    for _ in range(300):
        chooser.echo_frame(0.9, erle_db=0.0)
    assert chooser.choose(residual, cleaned) is residual
