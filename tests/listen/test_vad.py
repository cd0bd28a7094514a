"""Streaming Silero VAD on real speech and non-speech."""

from __future__ import annotations

import numpy as np
import pytest

from appliance.audiofile import read_wav
from appliance.config import Config
from appliance.errors import ModelError
from appliance.listen.vad import MODEL_FILE, SileroVad
from appliance.models import require

SPEECH = "/usr/share/sounds/alsa/Front_Center.wav"


@pytest.fixture(scope="module")
def model_path():
    return require(MODEL_FILE, Config().models_dir())


def _probabilities(vad: SileroVad, samples: np.ndarray, period: int) -> list[float]:
    return [vad.accept(samples[i:i + period]) for i in range(0, len(samples) - period + 1, period)]


def test_speech_scores_high_silence_and_noise_low(model_path):
    speech = read_wav(SPEECH)
    noise = (np.random.default_rng(0).standard_normal(32000) * 1000).astype(np.int16)
    with SileroVad(model_path) as vad:
        assert max(_probabilities(vad, speech, 160)) > 0.9
        vad.reset()
        assert max(_probabilities(vad, np.zeros(32000, np.int16), 160)) < 0.1
        vad.reset()
        assert float(np.median(_probabilities(vad, noise, 160))) < 0.3


def test_streaming_is_independent_of_the_period_size(model_path):
    speech = read_wav(SPEECH)[: 512 * 40]
    with SileroVad(model_path) as small, SileroVad(model_path) as large:
        by_10ms = _probabilities(small, speech, 160)
        by_window = _probabilities(large, speech, 512)
    # Compare at each 512-sample window boundary that both have seen.
    assert by_window[-1] == pytest.approx(by_10ms[-1], abs=1e-5)
    assert by_window[19] == pytest.approx(by_10ms[(20 * 512) // 160 - 1], abs=1e-5)


def test_a_file_that_is_not_a_model_is_one_clear_error(tmp_path):
    bogus = tmp_path / "silero_vad.onnx"
    bogus.write_bytes(b"not a model")
    with pytest.raises(ModelError, match="silero_vad.onnx"):
        SileroVad(bogus)
