"""The clause splitter that feeds TTS while the LLM is still writing."""

from hypothesis import given
from hypothesis import strategies as st

from appliance.speech.clauses import ClauseSplitter, stream_clauses

REPLY = (
    "Breakfast is served from 7 a.m. until 10:30, and on Sundays until 11. "
    "Dr. Lee's spa is 3.5 km away! Anything else?"
)


def test_splits_at_sentences_and_long_enough_commas():
    assert list(stream_clauses([REPLY])) == [
        "Breakfast is served from 7 a.m. until 10:30,",
        "and on Sundays until 11.",
        "Dr. Lee's spa is 3.5 km away!",
        "Anything else?",
    ]


def test_short_comma_phrase_stays_with_its_sentence():
    assert list(stream_clauses(["Yes, it is open. Bye"])) == ["Yes, it is open.", "Bye"]


def test_a_clause_is_released_by_the_piece_that_completes_it():
    splitter = ClauseSplitter()
    assert splitter.feed("The pool is on the fifth floor.") == []  # "5." might be "5.5"
    assert splitter.feed(" It") == ["The pool is on the fifth floor."]
    assert splitter.feed(" opens at 7.") == []
    assert splitter.flush() == "It opens at 7."
    assert splitter.flush() is None


def test_newline_ends_a_clause():
    assert list(stream_clauses(["We are on the corner of", "\nSorry, say that again?"])) == [
        "We are on the corner of", "Sorry, say that again?"]


@given(st.lists(st.integers(min_value=1, max_value=len(REPLY)), max_size=12))
def test_any_piece_boundaries_give_the_same_clauses(cuts):
    edges = [0, *sorted(set(cuts)), len(REPLY)]
    pieces = [REPLY[a:b] for a, b in zip(edges, edges[1:], strict=False)]
    assert list(stream_clauses(pieces)) == list(stream_clauses([REPLY]))
