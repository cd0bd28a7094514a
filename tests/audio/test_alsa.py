"""Through real ALSA (pyalsaaudio + the `pulse` plugin) on a private PulseAudio loop."""

from __future__ import annotations

import dataclasses
import json
import subprocess
import sys
import threading

import numpy as np
import pytest

from appliance.audio.alsa import AlsaDevice
from appliance.audio.loop import DuplexLoop
from appliance.audio.speaker import Speaker
from appliance.audio.testing import PeriodRecorder
from appliance.config import AudioSettings
from appliance.errors import AudioDeviceError
from appliance.messages import SAMPLE_RATE_HZ

pytestmark = pytest.mark.alsa

# PulseAudio keeps part of its buffer on the server, out of avail()'s sight: see Speaker.
SETTINGS = AudioSettings(capture_device="pulse", playback_device="pulse", realtime_priority=0,
                         cut_rewinds_card=False)
TONE_AMPLITUDE = 8000


def tone(seconds: float, hz: float = 440.0) -> np.ndarray:
    t = np.arange(int(seconds * SAMPLE_RATE_HZ)) / SAMPLE_RATE_HZ
    return np.round(TONE_AMPLITUDE * np.sin(2 * np.pi * hz * t)).astype(np.int16)


def start_loop(recorder: PeriodRecorder, settings: AudioSettings = SETTINGS):
    device = AlsaDevice(settings)
    device.open()
    speaker = Speaker(device, settings)
    return device, speaker, DuplexLoop(device, speaker, recorder)


CARD_LIKE_I2S = dataclasses.replace(SETTINGS, card_rate_hz=44100, card_format="S32_LE",
                                    capture_channels=2, period_ms=20, periods=4)


@pytest.mark.parametrize("settings", [SETTINGS, CARD_LIKE_I2S], ids=["s16-48k", "s32-44k1-stereo"])
def test_duplex_loop_plays_a_tone_and_captures_it(pulse, settings):
    recorder = PeriodRecorder()
    device, speaker, loop = start_loop(recorder, settings)
    with device, loop:
        assert speaker.enqueue_audio(tone(1.0, 440.0), SAMPLE_RATE_HZ) == 0
        recorder.wait_periods(150)
    captured = recorder.captured().astype(np.float64)
    spectrum = np.abs(np.fft.rfft(captured))
    peak_hz = np.argmax(spectrum) * SAMPLE_RATE_HZ / captured.size
    assert abs(peak_hz - 440.0) < 5.0
    assert np.abs(captured).max() > 0.8 * TONE_AMPLITUDE
    granted = device.granted["playback_granted"]
    assert (granted.rate_hz, granted.format) == (settings.card_rate_hz, settings.card_format)
    assert not loop.running


def test_cut_is_a_smooth_fade_then_silence(pulse):
    recorder = PeriodRecorder()
    device, speaker, loop = start_loop(recorder)
    with device, loop:
        speaker.enqueue_audio(tone(4.0, 300.0), SAMPLE_RATE_HZ)
        recorder.wait_periods(120)  # well after the tone reached the microphone
        cut_period = recorder.periods
        speaker.cut(10.0)
        recorder.wait_periods(cut_period + 40)
    captured = recorder.captured().astype(np.float64)
    cut_sample = cut_period * device.period_samples
    before = captured[cut_sample - SAMPLE_RATE_HZ // 2:cut_sample]
    assert np.abs(before).max() > 0.8 * TONE_AMPLITUDE, "the tone was not playing at the cut"
    tone_step = np.abs(np.diff(before)).max()
    after = captured[cut_sample:]
    # 2 % allows for the resampler's ripple on a signal that is already at its steepest.
    assert np.abs(np.diff(after)).max() <= 1.02 * tone_step
    silent_from = SAMPLE_RATE_HZ * 250 // 1000
    assert np.abs(after[silent_from:]).max() < TONE_AMPLITUDE / 100  # 40 dB down
    assert not speaker.is_speaking


def test_a_stalled_loop_xruns_recovers_and_counts_it(pulse):
    recorder = PeriodRecorder(stall_s=0.3)
    device, speaker, loop = start_loop(recorder)
    with device, loop:
        speaker.enqueue_audio(tone(4.0), SAMPLE_RATE_HZ)
        recorder.wait_periods(100)
        xruns_before = device.xruns
        stalled_at = recorder.periods
        recorder.stall_next.set()
        recorder.wait_periods(stalled_at + 60)
    assert device.xruns > xruns_before
    assert any(index > stalled_at for index in recorder.realigned_at)
    resumed = recorder.captured()[(stalled_at + 40) * device.period_samples:]
    assert np.abs(resumed).max() > 0.8 * TONE_AMPLITUDE, "audio did not come back after the xrun"


def run_cli(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "appliance", *args], capture_output=True,
                          text=True, timeout=60, env=env)


def test_calibrate_command_reports_the_three_keys(pulse, tmp_path):
    import os

    report = tmp_path / "calibration.json"
    result = run_cli("calibrate", "--capture", "pulse", "--playback", "pulse",
                     "--json", str(report), env={**os.environ, **pulse.client_env()})
    assert result.returncode == 0, result.stderr
    figures = json.loads(report.read_text())
    assert {"echo_delay_ms", "echo_gain_db", "cut_latency_ms"} <= figures.keys()
    # The null sink's monitor hears the sink at unity gain.
    assert abs(figures["echo_gain_db"]) < 3.0
    assert figures["cut_latency_ms"] is not None


def error_lines(stderr: str) -> list[str]:
    """Lines that are not log records (those carry a level name)."""
    return [line for line in stderr.splitlines() if " INFO " not in line]


def test_missing_device_is_one_line_listing_pcms_and_no_thread(pulse):
    threads_before = set(threading.enumerate())
    settings = dataclasses.replace(SETTINGS, playback_device="no_such_pcm")
    with pytest.raises(AudioDeviceError) as raised:
        AlsaDevice(settings).open()
    message = str(raised.value)
    assert "\n" not in message
    assert "no_such_pcm" in message and "pulse" in message and "audio.playback_device" in message
    assert set(threading.enumerate()) == threads_before


def test_refused_format_is_one_line_saying_what_the_card_offers(pulse, tmp_path):
    import os

    # A real ALSA PCM that only takes floating point: lfloat over the null PCM.
    (tmp_path / "alsa").mkdir()
    (tmp_path / "alsa" / "asoundrc").write_text(
        'pcm.float_only { type lfloat; slave { pcm "null"; format S16_LE } }\n')
    env = {**os.environ, **pulse.client_env(), "XDG_CONFIG_HOME": str(tmp_path)}
    result = run_cli("calibrate", "--capture", "pulse", "--playback", "float_only", env=env)
    assert result.returncode == 2   # a device error is a configuration error (issue 15)
    lines = error_lines(result.stderr)
    assert len(lines) == 1, result.stderr
    assert "S16_LE" in lines[0] and "FLOAT_LE" in lines[0] and "float_only" in lines[0]
    # The process ended by itself: no thread (duplex loop or other) was left running.


def test_pulse_fixture_fails_loudly_when_pulseaudio_is_missing(tmp_path, monkeypatch):
    from pulse import PrivatePulse, PulseStartError

    monkeypatch.setenv("PATH", str(tmp_path))  # no pulseaudio binary on it
    with pytest.raises(PulseStartError, match="not installed"):
        PrivatePulse(tmp_path).start()
