"""Moonshine base English through onnxruntime: accuracy on real recordings, the draft
check, decoding while the caller speaks, and what silence, noise and clipping give."""

from __future__ import annotations

import dataclasses
import shutil

import numpy as np
import pytest
from test_asr import NAMED_RECORDINGS, feed

from appliance.audiofile import read_wav
from appliance.errors import ModelError
from appliance.models import require
from appliance.speech.clauses import words
from appliance.speech.factory import open_recognizer
from appliance.speech.moonshine import max_tokens_for
from appliance.speech.wer import normalise

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def moonshine(config):
    with open_recognizer(dataclasses.replace(config.asr, backend="moonshine"), config.models_dir()) as rec:
        yield rec


def transcribe_all(rec, samples: np.ndarray) -> str:
    rec.reset()
    rec.accept(samples)
    return rec.final().text


def test_alsa_recordings_transcribe_to_their_names(moonshine, accuracy):
    scores = [accuracy(path.stem.lower().split("_"), normalise(transcribe_all(moonshine, read_wav(path))))
              for path in NAMED_RECORDINGS]
    # Measured 1.00 (pocketsphinx: 0.50 on the same files).
    assert sum(scores) / len(scores) >= 0.8, scores


def test_a_draft_only_saves_work_it_never_changes_the_transcript(moonshine, speak):
    model = moonshine._model
    hidden = model.encode(speak("Can I check out later tomorrow?"))
    plain = model.decode(hidden, 40)
    assert plain.draft_accepted == 0 and plain.steps == len(plain.tokens) + 1
    assert len(words(model.text(plain.tokens))) >= 4   # a sentence, whatever words were heard
    exact = model.decode(hidden, 40, draft=plain.tokens)
    assert exact.tokens == plain.tokens and exact.draft_accepted == len(plain.tokens)
    assert exact.steps == 1                   # the whole draft checked in one batched pass
    half = len(plain.tokens) // 2
    wrong = (*plain.tokens[:half], 7, 8, 9)   # right start, invented end
    corrected = model.decode(hidden, 40, draft=wrong)
    assert corrected.tokens == plain.tokens and corrected.draft_accepted == half


def test_drafts_decoded_while_speaking_are_reused_at_the_endpoint(moonshine, speak):
    first = speak("Where is the swimming pool?", pad_s=0.1)  # 0.1 s pauses, the endpoint needs 0.4
    second = np.concatenate([speak("And is it heated?", pad_s=0.1), np.zeros(8000, dtype=np.int16)])
    moonshine.reset()
    feed(moonshine, first)
    moonshine.wait_for_drafts()                       # a draft of an earlier stretch may be running
    moonshine.accept(np.zeros(800, dtype=np.int16))   # 0.15 s of pause, the worker free: a draft
    moonshine.wait_for_drafts()
    partial = moonshine.accept(np.zeros(160, dtype=np.int16))
    # What holds for any words the model hears (piper reads with random noise, and Moonshine
    # has heard "pool" as "ghoul"): a draft of the first sentence exists before the endpoint.
    assert not partial.final and len(words(partial.text)) >= 3, partial.text
    # Fed whole (not stopping at the first endpoint): piper's own pause after a sentence
    # varies from run to run and can by itself reach the 0.4 s the endpoint needs.
    partials = [moonshine.accept(second[i:i + 1280]) for i in range(0, len(second), 1280)]
    assert moonshine.endpoint and not any(p.final for p in partials)
    # The kiosk never waits here; the test does, so that which draft is newest does not
    # depend on the machine's speed (how much is reused live: measure_asr_latency.py).
    moonshine.wait_for_drafts()
    final = moonshine.final()
    # The final covers both sentences: more words than the first one's draft.
    assert final.final and len(words(final.text)) > len(words(partial.text)), (partial, final)
    # How much is reused depends on what the model re-hears with more context ("Where is" can
    # become "Where's"); that the newest draft was checked and its agreeing start kept is fixed.
    assert moonshine.last_decoding.draft_accepted >= 1, moonshine.last_decoding


@pytest.mark.parametrize("kind", ["digital silence", "room hiss", "alsa noise"])
def test_silence_and_noise_give_no_sentences(moonshine, kind):
    rng = np.random.default_rng(1)
    audio = {"digital silence": np.zeros(16000 * 10, dtype=np.int16),
             "room hiss": (rng.normal(0, 300, 16000 * 5)).astype(np.int16),
             "alsa noise": read_wav("/usr/share/sounds/alsa/Noise.wav")}[kind]
    text = transcribe_all(moonshine, audio)
    assert len(normalise(text)) <= 2, text


def test_clipped_speech_stays_within_the_token_budget(moonshine, speak):
    speech = speak("Is breakfast included in the price?")
    clipped = np.clip(speech.astype(np.int32) * 30, -32768, 32767).astype(np.int16)
    moonshine.reset()
    moonshine.accept(clipped)
    final = moonshine.final()
    assert len(moonshine.last_decoding.tokens) <= max_tokens_for(clipped.size / 16000)
    assert len(normalise(final.text)) <= 10, final.text


def test_a_corrupt_moonshine_file_fails_verification_naming_it(config, tmp_path):
    installed = config.models_dir() / "moonshine-base-en"
    copy = tmp_path / "moonshine-base-en"
    copy.mkdir()
    for name in ("encoder_model.ort", "decoder_model_merged.ort"):
        (copy / name).symlink_to(installed / name)
    shutil.copyfile(installed / "tokenizer.bin", copy / "tokenizer.bin")
    data = bytearray((copy / "tokenizer.bin").read_bytes())
    data[100] ^= 0xFF
    (copy / "tokenizer.bin").write_bytes(bytes(data))
    with pytest.raises(ModelError, match=r"moonshine-base-en: corrupt \(sha256"):
        require("moonshine-base-en", tmp_path)
