"""Clause splitting keeps every word once, in order, and cuts where speech can pause."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from appliance.speech.clauses import split_clauses, words


def test_sentences_become_clauses():
    assert split_clauses("Good morning. Your room is ready! Shall I call a porter?") == [
        "Good morning.", "Your room is ready!", "Shall I call a porter?"]


def test_abbreviation_does_not_end_a_sentence():
    assert split_clauses("Mr. Smith is in room 12. Dr. Jones left.") == [
        "Mr. Smith is in room 12.", "Dr. Jones left."]


def test_long_sentence_is_cut_at_a_comma_short_pieces_are_not():
    text = "Breakfast is served in the garden room, and the pool opens at seven in the morning."
    assert split_clauses(text, min_words=4) == [
        "Breakfast is served in the garden room,", "and the pool opens at seven in the morning."]
    assert split_clauses("Yes, of course, the lift is on your left.", min_words=4) == [
        "Yes, of course, the lift is on your left."]


def test_words_skip_pure_punctuation():
    assert words("Well — it's 10:30 , isn't it?") == ["Well", "it's", "10:30", "isn't", "it?"]


@given(st.lists(st.sampled_from(["room", "the", "floor.", "Mr.", "yes,", "7", "—", "ok!", "e.g."]),
                max_size=30), st.integers(min_value=1, max_value=6))
def test_every_word_lands_in_exactly_one_clause_in_order(tokens, min_words):
    text = " ".join(tokens)
    clauses = split_clauses(text, min_words)
    assert [w for clause in clauses for w in words(clause)] == words(text)
    assert all(words(clause) for clause in clauses)
