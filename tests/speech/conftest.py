"""Real speech models shared by the speech tests: loaded once per session."""

from __future__ import annotations

import numpy as np
import pytest

from appliance.audiofile import resample
from appliance.config import Config
from appliance.speech.tts import Synthesizer
from appliance.speech.wer import word_errors


@pytest.fixture(scope="session")
def config() -> Config:
    return Config()


@pytest.fixture(scope="session")
def synthesizer(config):
    with Synthesizer(config.tts, config.models_dir()) as voice:
        yield voice


@pytest.fixture(scope="session")
def speak(synthesizer):
    """Text to 16 kHz int16 speech with `pad_s` of silence on both sides."""

    def speak(text: str, pad_s: float = 0.5) -> np.ndarray:
        audio = np.concatenate([chunk.samples for chunk in synthesizer.synthesize(text)])
        pad = np.zeros(int(pad_s * 16000), dtype=np.int16)
        return np.concatenate([pad, resample(audio, synthesizer.rate_hz), pad])

    return speak


def word_accuracy(reference: list[str], hypothesis: list[str]) -> float:
    """1 - word error rate (Levenshtein over words), floored at 0."""
    return max(0.0, 1.0 - word_errors(reference, hypothesis) / len(reference))


@pytest.fixture(scope="session")
def accuracy():
    return word_accuracy


def word_recall(reference: list[str], hypothesis: list[str]) -> float:
    """Share of the reference words found in the hypothesis (each hypothesis word used once)."""
    left = list(hypothesis)
    found = 0
    for word in reference:
        if word in left:
            left.remove(word)
            found += 1
    return found / len(reference)


@pytest.fixture(scope="session")
def recall():
    return word_recall
