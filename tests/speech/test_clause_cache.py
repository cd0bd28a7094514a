"""The voice's clause cache: a clause synthesised once is handed out again, within a bound."""

from __future__ import annotations

import numpy as np

from appliance.config import Config
from appliance.knowledge.answer import Answerer
from appliance.messages import SpeechChunk
from appliance.speech.cache import ClauseCache


class CountingVoice:
    """A stand-in voice (no model: what is tested is the cache): one second per clause."""

    def __init__(self) -> None:
        self.made: list[str] = []

    def __call__(self, clause: str) -> SpeechChunk:
        self.made.append(clause)
        return SpeechChunk(text=clause, samples=np.zeros(1000, dtype=np.int16), rate_hz=1000)


def test_a_clause_is_synthesised_once_and_the_oldest_goes_first():
    voice = CountingVoice()
    cache = ClauseCache(voice, max_seconds=4.0)
    first = cache("Breakfast is served")
    assert cache("Breakfast is served") is first
    cache("Dinner is served")
    cache("Breakfast is served")                 # now the most recent
    cache("The gym is on the second floor")
    cache("Where is the pool?")
    cache("Where is the sauna?")                 # over 4 s: "Dinner" goes
    cache("Dinner is served")
    assert voice.made == ["Breakfast is served", "Dinner is served",
                          "The gym is on the second floor", "Where is the pool?", "Where is the sauna?",
                          "Dinner is served"]
    assert cache.seconds <= 4.0 and (cache.hits, cache.misses) == (2, 6)


def test_warmed_clauses_stay_whatever_else_is_spoken():
    voice = CountingVoice()
    cache = ClauseCache(voice, max_seconds=4.0)
    assert cache.warm(["Breakfast is served", "Dinner is served", "The gym is"]) == 2  # half
    for clause in ("one", "two", "three", "four"):
        cache(clause)
    cache("Breakfast is served")
    cache("Dinner is served")
    assert voice.made.count("Breakfast is served") == voice.made.count("Dinner is served") == 1


def test_warm_makes_each_opening_once():
    voice = CountingVoice()
    cache = ClauseCache(voice, max_seconds=200.0)
    openings = Answerer(Config()).openings()
    assert cache.warm(openings) == len(openings) == len(set(openings))
    assert cache.warm(openings) == 0
    answerer = Answerer(Config())
    for question in ("When is breakfast?", "Thanks!", "Can I rent a bicycle?"):
        conversation = answerer.new_conversation()
        conversation.add_user(question)
        assert next(answerer.reply(conversation)) in openings, question
