"""Retrieval: the right fact for questions as a recogniser hears them, none for others."""

from __future__ import annotations

from pathlib import Path

import pytest

from appliance.config import Config
from appliance.knowledge.answer import Answerer
from appliance.knowledge.retrieval import FactIndex, RetrievalOptions, stem
from appliance.knowledge.site import KnowledgeFile, load_site

MUSEUM = Path(__file__).resolve().parent.parent / "answers" / "museum.toml"


@pytest.fixture(scope="module")
def hotel() -> Answerer:
    return Answerer(Config())


@pytest.fixture(scope="module")
def museum() -> Answerer:
    return Answerer(Config(), knowledge=KnowledgeFile(MUSEUM))


def topics(answerer: Answerer, question: str) -> list[str]:
    return [fact.topic for fact in answerer.retrieve(question)]


@pytest.mark.parametrize(("question", "topic"), [
    ("when his dinner", "dinner"),                  # "when is dinner"
    ("banks is their parking", "parking"),          # "is there parking"
    ("what time is brake fast", "breakfast"),       # split by the recogniser
    ("what is the y fi password", "wifi"),
    ("how much does late check out cost", "late check-out"),
    ("is there somewhere to work out", "gym"),      # a joined pair that is a synonym
    ("Where is the elevator?", "lifts"),            # the operator wrote "lifts"
])
def test_misheard_and_paraphrased_questions_find_their_fact(hotel, question, topic):
    assert topics(hotel, question)[:1] == [topic]


@pytest.mark.parametrize(("question", "topic"), [
    ("where is the ship wreck gallery", "shipwreck gallery"),
    ("When are you open?", "opening hours"),        # nothing but generic words
    ("where are the loos", "toilets"),
    ("is there a wheel chair", "wheelchair access"),
])
def test_the_same_code_finds_facts_on_another_site(museum, question, topic):
    assert topics(museum, question)[:1] == [topic]


@pytest.mark.parametrize("question", [
    "Is there a casino in the hotel?", "Where is the nearest hospital?", "Who won the football?",
    "?!...", "", "um", "x" * 5000,
])
def test_questions_the_facts_do_not_answer_retrieve_nothing(hotel, question):
    assert topics(hotel, question) == []


def test_a_5000_character_question_is_searched(hotel):
    question = "I was wondering, " * 300 + "when is breakfast?"
    assert len(question) > 5000
    assert topics(hotel, question)[:1] == ["breakfast"]


def test_spelling_matches_are_what_finds_a_misspelt_word():
    facts = load_site(None).facts
    plain = FactIndex(facts, RetrievalOptions(fuzzy=False))
    fuzzy = FactIndex(facts, RetrievalOptions(fuzzy=True))
    assert plain.search("brekfast") == []
    best = fuzzy.search("brekfast")[0]
    assert best.fact.topic == "breakfast" and best.coverage == 1.0


def test_stemming_meets_word_forms():
    assert stem("opens") == stem("opening") == stem("open")
    assert stem("pharmacies") == stem("pharmacy")
    assert stem("glass") == "glass" and stem("bus") == "bus"
