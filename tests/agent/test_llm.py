"""The local LLM on the real SmolLM2 GGUF through real llama.cpp.

The model is loaded once per module; greedy decoding (temperature 0) keeps
replies reproducible. Nothing here asserts a duration: outcomes are asserted
(thread ended, tokens produced, tokens llama.cpp decoded).
"""

import threading
from dataclasses import replace

import numpy as np
import pytest

from appliance.agent.history import ChunkPlacement, Conversation
from appliance.agent.llm import LocalLlm
from appliance.config import Config
from appliance.errors import ModelError
from appliance.messages import SpeechChunk, WordTiming

pytestmark = pytest.mark.slow   # llama.cpp with SmolLM2

CONFIG = Config()
SETTINGS = replace(CONFIG.llm, temperature=0.0, max_tokens=48, timeout_s=60.0,
                   interruption_note="The guest interrupted you there.")
QUESTION = "What can I do in the hotel this evening?"


@pytest.fixture(scope="module")
def llm():
    with LocalLlm(SETTINGS, CONFIG.models_dir()) as model:
        yield model


def ask(question, system="You are the front desk of a hotel. Answer in two sentences."):
    talk = Conversation(system, SETTINGS.interruption_note)
    talk.add_user(question)
    return talk


def worker_threads():
    return [t for t in threading.enumerate() if t.name in ("llm-generate", "llm-deadline")]


def test_clauses_stream_in_order_and_the_first_arrives_before_generation_ends(llm):
    clauses, tokens_at_clause = [], []
    for clause in llm.stream_clauses(ask(QUESTION)):
        clauses.append(clause)
        tokens_at_clause.append(llm.last_reply.generated_tokens)
    reply = llm.last_reply
    assert reply.outcome in ("complete", "max_tokens")
    assert len(clauses) >= 2
    assert " ".join(clauses) == " ".join(reply.text.split())
    assert tokens_at_clause[0] < reply.generated_tokens
    assert not worker_threads()


def test_cancel_mid_stream_stops_the_generator_and_the_worker(llm):
    pieces = llm.stream_reply(ask("Tell me everything about the hotel, its rooms and its history."))
    received = [next(pieces) for _ in range(3)]
    llm.cancel()
    assert list(pieces) == []
    reply = llm.last_reply
    assert reply.outcome == "cancelled"
    assert not worker_threads()
    produced = reply.generated_tokens
    assert len(received) <= produced < SETTINGS.max_tokens
    assert llm.last_reply.generated_tokens == produced  # nothing decodes after the join


def test_cancel_during_a_long_prompt_eval_aborts_the_decode(llm):
    """llama-cpp evaluates a prompt in 512-token batches with no Python in between:
    stopping before the last batch is only possible through the abort callback."""
    talk = ask("Please summarise this guest feedback: " + "The room was lovely and quiet. " * 170)
    prompt_tokens = len(llm.prompt_tokens(talk))
    assert prompt_tokens > 1024
    pieces = llm.stream_reply(talk)
    (worker,) = worker_threads()[:1]
    reused = llm.cached_tokens
    while llm.cached_tokens < reused + 512 and worker.is_alive():
        worker.join(timeout=0.002)  # wait for llama to finish its first batch
    llm.cancel()
    assert list(pieces) == []
    reply = llm.last_reply
    assert reply.outcome == "cancelled"
    assert reply.generated_tokens == 0
    assert 512 <= llm.cached_tokens < prompt_tokens  # the remaining batches were never decoded
    assert not worker_threads()


def test_next_turn_reuses_the_kv_cache(llm):
    talk = ask(QUESTION, system="You are the concierge of a small hotel by the sea.")
    first = list(llm.stream_reply(talk))
    turn1 = llm.last_reply
    assert first and turn1.outcome in ("complete", "max_tokens")
    assert turn1.evaluated_prompt_tokens >= turn1.prompt_tokens - 8  # a fresh system prompt
    talk.add_assistant(turn1.text)
    talk.add_user("And tomorrow morning?")
    list(llm.stream_reply(talk))
    turn2 = llm.last_reply
    assert turn2.prompt_tokens > turn1.prompt_tokens + turn1.generated_tokens
    assert 0 < turn2.evaluated_prompt_tokens <= turn2.prompt_tokens - turn1.prompt_tokens
    assert turn2.evaluated_prompt_tokens < turn2.prompt_tokens / 3


def test_an_interrupted_turn_renders_its_heard_words_and_the_note(llm):
    talk = ask("Where is the pool?")
    words = (WordTiming("The", 0, 2205), WordTiming("pool", 2205, 6615), WordTiming("is", 6615, 8820))
    chunk = SpeechChunk("The pool is on the roof.", np.zeros(22050, np.int16), 22050, words)
    talk.truncate_to_heard(4800, [ChunkPlacement(0, chunk)])  # "pool" ends at 4800
    talk.add_user("Actually, where is the gym?")
    prompt = llm.token_text(llm.prompt_tokens(talk))
    assert "assistant\nThe pool<|im_end|>" in prompt
    assert prompt.index(SETTINGS.interruption_note) > prompt.index("The pool")
    assert prompt.endswith("Actually, where is the gym?<|im_end|>\n<|im_start|>assistant\n")


def test_timeout_speaks_the_fallback_and_keeps_running():
    settings = replace(SETTINGS, timeout_s=0.001)
    with LocalLlm(settings, CONFIG.models_dir()) as slow:
        assert list(slow.stream_clauses(ask(QUESTION))) == [
            "Sorry, I lost my train of thought.", "Could you say that again?"]
        assert slow.last_reply.outcome == "timeout"
        assert slow.last_reply.text == settings.fallback_text
        assert list(slow.stream_reply(ask("Is there a gym?"))) == [settings.fallback_text]
    assert not worker_threads()


def test_model_error_speaks_the_fallback_instead_of_raising():
    settings = replace(SETTINGS, context_tokens=256)
    with LocalLlm(settings, CONFIG.models_dir()) as small:
        pieces = list(small.stream_reply(ask("Describe the hotel. " * 80)))
        assert pieces == [settings.fallback_text]
        assert small.last_reply.outcome == "error"
    assert not worker_threads()


def test_a_long_conversation_drops_its_oldest_turns_to_fit_the_context():
    settings = replace(SETTINGS, context_tokens=512, max_tokens=16)
    with LocalLlm(settings, CONFIG.models_dir()) as small:
        talk = ask("Hello.")
        for turn in range(12):
            talk.add_assistant(f"Reply number {turn} about rooms, breakfast, parking and the spa.")
            talk.add_user(f"Question number {turn} about the gym, the pool and the bar?")
        tokens = small.prompt_tokens(talk)
        assert len(tokens) <= settings.context_tokens - settings.max_tokens
        text = small.token_text(tokens)
        assert "Question number 11" in text and "Reply number 0 " not in text
        assert text.startswith("<|im_start|>system\nYou are the front desk")


def test_corrupt_model_file_is_a_one_line_model_error(tmp_path):
    corrupt = tmp_path / "broken.gguf"
    corrupt.write_bytes(b"GGUF" + b"\x00garbage" * 100)
    with pytest.raises(ModelError) as error:
        LocalLlm(replace(SETTINGS, model=str(corrupt)), CONFIG.models_dir())
    assert str(corrupt) in str(error.value) and "\n" not in str(error.value)


def test_missing_model_file_is_a_one_line_model_error(tmp_path):
    for name in (str(tmp_path / "absent.gguf"), "absent.gguf"):
        with pytest.raises(ModelError) as error:
            LocalLlm(replace(SETTINGS, model=name), tmp_path)
        assert "absent.gguf" in str(error.value) and "\n" not in str(error.value)


def test_priming_the_system_prompt_leaves_only_the_question_to_decode(llm):
    talk = Conversation("You are the night porter of a mountain lodge.", SETTINGS.interruption_note)
    llm.prime(talk)
    assert llm.cached_tokens == len(llm.prompt_tokens(talk, open_reply=False))
    talk.add_user("Is the sauna open?")
    primed = llm.cached_tokens
    list(llm.stream_reply(talk))
    reply = llm.last_reply
    assert reply.outcome in ("complete", "max_tokens")
    assert 0 < reply.evaluated_prompt_tokens <= reply.prompt_tokens - primed
