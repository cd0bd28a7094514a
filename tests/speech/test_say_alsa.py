"""`appliance say` through real ALSA on the private PulseAudio loop."""

from __future__ import annotations

import os
import signal
import subprocess
import sys

import numpy as np
import pytest
from pulse import KIOSK_AUDIO_CONFIG

from appliance.audiofile import read_wav

pytestmark = pytest.mark.alsa



def test_say_plays_through_alsa(pulse, tmp_path):
    """`appliance say` without --out plays on the configured card (the monitor records it)."""
    config = tmp_path / "appliance.toml"
    config.write_text(KIOSK_AUDIO_CONFIG)
    env = {**os.environ, **pulse.client_env()}
    recording = tmp_path / "heard.wav"
    recorder = subprocess.Popen(["parecord", "--device", "kiosk.monitor", "--rate", "16000",
                                 "--channels", "1", "--file-format=wav", str(recording)], env=env)
    try:
        said = subprocess.run([sys.executable, "-m", "appliance", "--config", str(config), "say",
                               "The pool is on the second floor."], env=env, capture_output=True,
                              text=True, timeout=60)
    finally:
        recorder.send_signal(signal.SIGINT)
        recorder.wait(timeout=10)
    assert said.returncode == 0, said.stderr
    heard = read_wav(recording)
    assert np.abs(heard).max() > 3000, "nothing audible reached the sink"


def test_say_needs_no_microphone(pulse, tmp_path):
    """`say` only plays: a capture device that does not exist (a kiosk whose microphone
    is unplugged) must not stop it, and is not opened at all."""
    config = tmp_path / "appliance.toml"
    config.write_text(KIOSK_AUDIO_CONFIG.replace('capture_device = "pulse"',
                                                 'capture_device = "no-such-microphone"'))
    env = {**os.environ, **pulse.client_env()}
    said = subprocess.run([sys.executable, "-m", "appliance", "--config", str(config), "say",
                           "Hello."], env=env, capture_output=True, text=True, timeout=60)
    assert said.returncode == 0, said.stderr
    assert "capture" not in said.stderr


def test_say_blames_the_playback_device(tmp_path):
    """Both devices wrong: the one line names the key `say` uses, audio.playback_device."""
    config = tmp_path / "appliance.toml"
    config.write_text('[audio]\ncapture_device = "no-such-microphone"\n'
                      'playback_device = "no-such-speaker"\n')
    said = subprocess.run([sys.executable, "-m", "appliance", "--config", str(config), "say",
                           "Hello."], capture_output=True, text=True, timeout=60)
    assert said.returncode == 2, said.stderr
    last = said.stderr.strip().splitlines()[-1]
    assert last.startswith("appliance: audio.playback_device: no playback PCM named "
                           "'no-such-speaker'"), last
    assert "capture" not in said.stderr
