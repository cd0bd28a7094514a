"""Sim scripts: a caller line may be a recording instead of a synthetic voice."""

from __future__ import annotations

import numpy as np
import pytest

from appliance.audiofile import read_wav, write_wav
from appliance.errors import ConfigError
from appliance.runtime.script import load_script, speak


def test_a_script_line_can_be_a_recording_relative_to_the_script(tmp_path):
    voice = read_wav("/usr/share/sounds/alsa/Front_Center.wav", 48000)
    stereo = np.stack([voice, np.zeros_like(voice)], axis=1)
    write_wav(tmp_path / "voices" / "caller.wav", stereo, 48000)
    script = tmp_path / "recorded.toml"
    script.write_text('[[line]]\ntext = "front center"\naudio = "voices/caller.wav"\nat_s = 1.0\n')
    line = load_script(script).lines[0]
    samples = speak(line, piper=lambda text: [])
    assert abs(samples.size - voice.size / 3) <= 2                  # 48 kHz read back at 16 kHz
    assert np.abs(samples.astype(float)).max() > 1000               # the first channel, not the silent one


def test_a_script_recording_that_is_not_audio_names_the_line(tmp_path):
    (tmp_path / "notes.wav").write_text("not audio")
    script = tmp_path / "bad.toml"
    script.write_text('[[line]]\ntext = "hi"\nat_s = 0.5\n\n'
                      '[[line]]\ntext = "x"\naudio = "notes.wav"\nat_s = 2\n')
    with pytest.raises(ConfigError, match=r"bad.toml: line\[1\].audio: a readable audio file"):
        load_script(script)
