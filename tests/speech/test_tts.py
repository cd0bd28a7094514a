"""Piper TTS through the real voice: clause chunks, word boundaries and cancellation."""

from __future__ import annotations

import threading

import numpy as np
import pytest

from appliance.config import TtsSettings
from appliance.errors import ModelError
from appliance.speech.clauses import words
from appliance.speech.tts import Synthesizer

TEXT = ("Good evening, and welcome to the Harbour View Hotel. Your room is on the 4th floor, "
        "next to the lifts. Breakfast is served from 7 until 10:30 a.m. in the garden room.")


@pytest.fixture(scope="module")
def chunks(synthesizer):
    return list(synthesizer.synthesize(TEXT))


def test_one_chunk_per_clause_covering_every_word(chunks):
    assert len(chunks) >= 3
    assert [w.word for chunk in chunks for w in chunk.words] == words(TEXT)
    assert all(chunk.rate_hz == 22050 and chunk.samples.dtype == np.int16 for chunk in chunks)


def test_word_boundaries_are_monotonic_and_inside_the_audio(chunks):
    for chunk in chunks:
        assert len(chunk.words) == len(words(chunk.text))
        previous_end = 0
        for word in chunk.words:
            assert previous_end <= word.start_sample < word.end_sample <= len(chunk.samples), word
            previous_end = word.end_sample


def test_word_spans_hold_the_speech_and_the_gaps_are_quieter(chunks):
    """Inside words the voice is loud; the pause after a clause-final word is far quieter."""
    chunk = chunks[0]
    audio = chunk.samples.astype(np.float64)
    inside = np.concatenate([audio[w.start_sample:w.end_sample] for w in chunk.words])
    after = audio[chunk.words[-1].end_sample:]
    assert np.sqrt(np.mean(inside**2)) > 4 * np.sqrt(np.mean(after**2) + 1.0)


def test_cancel_mid_utterance_stops_within_one_clause_and_leaves_no_thread(synthesizer):
    threads_before = set(threading.enumerate())
    stream = synthesizer.synthesize(TEXT)
    first = next(stream)
    synthesizer.cancel()
    assert list(stream) == []
    assert first.text == "Good evening, and welcome to the Harbour View Hotel."
    assert set(threading.enumerate()) == threads_before


def test_cancel_from_another_thread_while_the_consumer_keeps_pulling(synthesizer):
    """The kiosk's case: TTS runs in its own thread, the barge-in cancels from another.

    The consumer goes straight on to the next clause after the first, so the
    cancel lands while a clause is being made: at most that clause follows.
    """
    received, first_arrived = [], threading.Event()

    def consume() -> None:
        for chunk in synthesizer.synthesize(TEXT):
            received.append(chunk)
            first_arrived.set()

    consumer = threading.Thread(target=consume, name="test-tts-consumer")
    consumer.start()
    assert first_arrived.wait(timeout=30)
    synthesizer.cancel()
    consumer.join(timeout=30)
    assert not consumer.is_alive()
    assert 1 <= len(received) <= 2 < len(list(synthesizer.synthesize(TEXT)))


def test_a_synthesis_started_after_a_cancel_runs_to_the_end(synthesizer):
    synthesizer.cancel()
    assert [c.text for c in synthesizer.synthesize("Yes. Of course.")] == ["Yes.", "Of course."]


def test_missing_voice_is_one_line_model_error(config, tmp_path):
    with pytest.raises(ModelError, match="no_such_voice.onnx"):
        Synthesizer(TtsSettings(voice="no_such_voice"), tmp_path)


def test_close_twice_is_safe(config):
    voice = Synthesizer(config.tts, config.models_dir())
    voice.close()
    voice.close()
    with pytest.raises(RuntimeError):
        voice.synthesize("hello")


def test_the_bundled_voice_loads_its_pre_aligned_model():
    from appliance.config import Config
    from appliance.speech.tts import voice_model

    path, aligned = voice_model(Config().tts.voice, Config().models_dir())
    assert aligned and path.name == "en_US-joe-medium.aligned.onnx"
