"""`appliance transcribe` on long recordings: the VAD keeps the recogniser off silence.

A file that is mostly room noise (ten minutes here) used to go through the
recogniser whole: Moonshine decoded every 12 s of hiss (max_utterance_s) and
pocketsphinx searched it all (102 s and more for ten minutes). Only what
Silero calls speech, with the pre-roll before it and the endpoint silence
after it, is fed now. The recogniser is the real one, wrapped by a counter.
"""

from __future__ import annotations

import numpy as np
import pytest

from appliance.commands.transcribe import speech_spans, transcribe
from appliance.listen.vad import MODEL_FILE, SileroVad
from appliance.messages import SAMPLE_RATE_HZ
from appliance.models import require
from appliance.speech.factory import open_recognizer

pytestmark = pytest.mark.slow


class CountingRecognizer:
    """The real recogniser; counts the samples it is given (the cost of a file)."""

    def __init__(self, recognizer) -> None:
        self._recognizer = recognizer
        self.fed = 0

    def accept(self, samples):
        self.fed += len(samples)
        return self._recognizer.accept(samples)

    def __getattr__(self, name):
        return getattr(self._recognizer, name)


def room_noise(seconds: float, rms: float = 300.0) -> np.ndarray:
    """Steady hiss at about -40 dBFS: a quiet lobby, loud enough to count as sound."""
    rng = np.random.default_rng(15)
    return np.clip(rng.normal(0.0, rms, int(seconds * SAMPLE_RATE_HZ)), -32768, 32767).astype(np.int16)


def test_ten_minutes_of_silence_between_two_phrases_cost_the_recogniser_nothing(config, speak):
    first, second = speak("Your room is ready."), speak("The pool opens at nine.")
    silence = room_noise(600.0)
    audio = np.concatenate([first, silence, second])
    with SileroVad(require(MODEL_FILE, config.models_dir())) as vad:
        spans = speech_spans(audio, vad, config.detector.vad_threshold,
                             config.asr.preroll_ms, config.asr.endpoint_silence_ms)
    with open_recognizer(config.asr, config.models_dir()) as real:
        recognizer = CountingRecognizer(real)
        utterances = transcribe(audio, recognizer, spans)
    fed_s = recognizer.fed / SAMPLE_RATE_HZ
    speech_s = (first.size + second.size) / SAMPLE_RATE_HZ
    assert fed_s < speech_s + 4.0, f"the recogniser heard {fed_s:.0f} s of a {audio.size / 16000:.0f} s file"
    starts = [word.start_s for utterance in utterances for word in utterance.words]
    second_at_s = (first.size + silence.size) / SAMPLE_RATE_HZ
    assert any(s < first.size / SAMPLE_RATE_HZ for s in starts), "nothing heard of the first phrase"
    assert any(s >= second_at_s - 0.5 for s in starts), "nothing heard of the second phrase"


def test_a_file_of_silence_alone_never_reaches_the_recogniser(config):
    with SileroVad(require(MODEL_FILE, config.models_dir())) as vad:
        assert speech_spans(room_noise(30.0), vad, config.detector.vad_threshold,
                            config.asr.preroll_ms, config.asr.endpoint_silence_ms) == []
        assert speech_spans(np.zeros(30 * SAMPLE_RATE_HZ, np.int16), vad,
                            config.detector.vad_threshold, config.asr.preroll_ms,
                            config.asr.endpoint_silence_ms) == []
