"""Cutting the agent's turn to the words the caller heard, on known word boundaries.

Chunks are at the TTS rate (22050 Hz) and placed in played-sample space
(16 kHz); 22050 TTS samples are exactly 16000 played samples, so the expected
boundaries below are easy to check by hand.
"""

import numpy as np
from hypothesis import given
from hypothesis import strategies as st

from appliance.agent.history import ChunkPlacement, Conversation, split_heard
from appliance.messages import SpeechChunk, WordTiming

TTS_RATE = 22050


def chunk(text, spans):
    """A chunk whose words lie at the given TTS-rate sample spans."""
    words = tuple(WordTiming(w, a, b) for w, (a, b) in zip(text.split(), spans, strict=True))
    end = max(b for _, b in spans) + 2205
    return SpeechChunk(text, np.zeros(end, dtype=np.int16), TTS_RATE, words)


# "The pool is on the fifth floor." in played samples from the chunk start: The 0-3200, pool 3200-8000,
# is 8000-9600, (pause) on 11200-12800, the 12800-14400, fifth 14400-19200, floor. 19200-24000
FIRST = chunk("The pool is on the fifth floor.",
              [(0, 4410), (4410, 11025), (11025, 13230), (15435, 17640), (17640, 19845),
               (19845, 26460), (26460, 33075)])
# It 0-1600, opens 1600-6400, at 6400-8000, seven. 8000-12800
SECOND = chunk("It opens at seven.", [(0, 2205), (2205, 8820), (8820, 11025), (11025, 17640)])
START = 1600
SECOND_START = START + len(FIRST.samples) * 16000 // TTS_RATE  # right after the first chunk
PLACEMENTS = [ChunkPlacement(START, FIRST), ChunkPlacement(SECOND_START, SECOND)]


def conversation():
    talk = Conversation("You are a hotel desk.", "The guest interrupted you there.")
    talk.add_user("Where is the pool?")
    return talk


def test_cut_inside_a_word_keeps_only_the_words_before_it():
    talk = conversation()
    cut = talk.truncate_to_heard(START + 6000, PLACEMENTS)  # inside "pool" (3200-8000)
    assert cut.heard_text == "The"
    assert cut.resume_text == "pool is on the fifth floor."
    assert talk.messages[-1].text == "The"
    assert talk.messages[-1].interrupted


def test_a_word_is_heard_only_once_its_last_sample_was_played():
    assert split_heard(START + 7999, PLACEMENTS)[0] == ["The"]
    assert split_heard(START + 8000, PLACEMENTS)[0] == ["The", "pool"]


def test_cut_between_words_keeps_every_finished_word():
    talk = conversation()
    cut = talk.truncate_to_heard(START + 10000, PLACEMENTS)  # in the pause after "is"
    assert cut.heard_text == "The pool is"
    assert cut.resume_text == "on the fifth floor."


def test_cut_before_the_first_word_hears_nothing():
    for played in (0, START - 1, START + 100):
        talk = conversation()
        cut = talk.truncate_to_heard(played, PLACEMENTS)
        assert cut.heard_text == ""
        assert cut.resume_text == "The pool is on the fifth floor."
        assert talk.messages[-1].role == "assistant" and talk.messages[-1].interrupted


def test_cut_in_a_later_chunk_counts_the_whole_earlier_chunk():
    talk = conversation()
    cut = talk.truncate_to_heard(SECOND_START + 6000, PLACEMENTS)  # inside "opens" (1600-6400)
    assert cut.heard_text == "The pool is on the fifth floor. It"
    assert cut.resume_text == "opens at seven."


def test_cut_after_the_last_word_has_nothing_to_resume():
    cut = conversation().truncate_to_heard(SECOND_START + 20000, PLACEMENTS)
    assert cut.heard_text.endswith("at seven.")
    assert cut.resume_text == ""


def test_the_cut_replaces_a_finished_reply_and_the_caller_follows():
    talk = conversation()
    talk.add_assistant("The pool is on the fifth floor. It opens at seven.")
    talk.truncate_to_heard(START + 10000, PLACEMENTS)
    talk.add_user("Actually, where is the gym?")
    roles = [m.role for m in talk.messages]
    assert roles == ["system", "user", "assistant", "user"]
    assert talk.prompt_messages()[2:] == [
        {"role": "assistant", "content": "The pool is"},
        {"role": "system", "content": "The guest interrupted you there."},
        {"role": "user", "content": "Actually, where is the gym?"},
    ]


def test_earlier_turns_render_identically_after_a_cut():
    """The KV cache can only be reused if the prompt so far does not change."""
    talk = conversation()
    talk.add_assistant("We have a pool.")
    talk.add_user("Where is it?")
    before = talk.prompt_messages()
    talk.truncate_to_heard(START + 10000, PLACEMENTS)
    talk.add_user("And the gym?")
    assert talk.prompt_messages()[: len(before)] == before


def test_resume_restores_the_sentence_and_a_second_cut_keeps_what_was_heard():
    talk = conversation()
    cut = talk.truncate_to_heard(START + 10000, PLACEMENTS)
    talk.resume(cut)
    assert talk.messages[-1].text == "The pool is on the fifth floor."
    assert not talk.messages[-1].interrupted
    resumed = chunk("on the fifth floor.", [(0, 2205), (2205, 4410), (4410, 8820), (8820, 13230)])
    again = talk.truncate_to_heard(50000 + 4000, [ChunkPlacement(50000, resumed)])
    assert again.heard_text == "The pool is on the"
    assert again.resume_text == "fifth floor."


def test_without_a_note_the_cut_turn_renders_as_its_heard_words_only():
    talk = Conversation("desk")
    talk.add_user("Where is the pool?")
    talk.truncate_to_heard(START + 10000, PLACEMENTS)
    assert talk.prompt_messages()[-1] == {"role": "assistant", "content": "The pool is"}


@given(st.integers(min_value=0, max_value=SECOND_START + 30000),
       st.integers(min_value=0, max_value=SECOND_START + 30000))
def test_heard_text_is_a_prefix_that_grows_with_played_samples(a, b):
    early, late = sorted((a, b))
    heard_early, _ = split_heard(early, PLACEMENTS)
    heard_late, unheard_late = split_heard(late, PLACEMENTS)
    assert heard_late[: len(heard_early)] == heard_early
    assert heard_late + unheard_late == (FIRST.text + " " + SECOND.text).split()
