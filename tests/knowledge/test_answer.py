"""The answer path with a scripted clause stream standing in for the model's words.

The stream is the model's output, injected through the constructor; everything
after it (grounding, fallback, caps, the prompt the model would read) is the
real code. Nothing here depends on what a model says.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator

import pytest

from appliance.agent.history import Conversation
from appliance.config import Config, KnowledgeSettings
from appliance.knowledge.answer import Answerer, cap_reply, lead_early
from appliance.knowledge.site import load_site
from appliance.speech.clauses import words

SITE = load_site(None)
MODEL = dataclasses.replace(Config(), knowledge=KnowledgeSettings(phrasing="model"))


class ScriptedModel:
    """Yields fixed clauses; records the prompt it was given and whether it was stopped."""

    def __init__(self, *clauses: str) -> None:
        self.clauses = clauses
        self.prompts: list[list[dict[str, str]]] = []
        self.stopped_early = False

    def __call__(self, conversation: Conversation) -> Iterator[str]:
        self.prompts.append(conversation.prompt_messages())
        given = 0
        try:
            for clause in self.clauses:
                yield clause
                given += 1
        finally:
            self.stopped_early = given < len(self.clauses)


def answer(answerer: Answerer, question: str) -> str:
    conversation = answerer.new_conversation()
    conversation.add_user(question)
    return " ".join(answerer.reply(conversation))


def test_a_clause_with_an_invented_number_is_not_spoken():
    model = ScriptedModel("Breakfast is in the Garden Room,", "call 1-800-642-3579 to book.",
                          "It is lovely.")
    answerer = Answerer(MODEL, model)
    reply = answer(answerer, "Where is breakfast?")
    assert "1-800" not in reply and "642" not in reply
    assert reply.startswith("Breakfast is in the Garden Room,")
    assert SITE.fact("breakfast").text in reply           # the fact's own words from there on
    assert model.stopped_early                            # the model was stopped at the bad clause
    assert answerer.last.rejected == "number '1-800-642-3579'" and answerer.last.source == "fact"
    assert answerer.last.facts == ["breakfast"] and not answerer.last.fallback


def test_a_clause_that_says_nothing_from_the_facts_is_replaced():
    answerer = Answerer(MODEL, ScriptedModel("What a wonderful question!", "Ask me anything."))
    assert answer(answerer, "Where can I park my car?") == SITE.fact("parking").text


def test_backed_model_words_are_spoken_as_they_are():
    model = ScriptedModel("You can park in the garage under the hotel,", "for 18 euros a night.")
    answerer = Answerer(MODEL, model)
    assert answer(answerer, "Where can I park?") == ("You can park in the garage under the hotel, "
                                                      "for 18 euros a night.")
    assert answerer.last.source == "model" and answerer.last.rejected is None


def test_replies_stop_at_two_sentences():
    model = ScriptedModel("The gym is on the second floor.", "It opens at 6 am.", "It closes at 10 pm.",
                          "The gym has towels.")
    answerer = Answerer(MODEL, model)
    assert answer(answerer, "Where is the gym?") == "The gym is on the second floor. It opens at 6 am."
    assert model.stopped_early


def test_a_list_without_full_stops_stops_at_two_items():
    listed = ["The gym", "second floor", "open from 6 am", "to 10 pm", "with towels"]
    assert list(cap_reply(iter(listed), max_sentences=2, max_words=24)) == listed[:2]


def test_no_reply_is_longer_than_the_word_budget():
    clauses = ["one two three four five six,", "seven eight nine ten eleven twelve,", "thirteen."]
    assert list(cap_reply(iter(clauses), max_sentences=2, max_words=10)) == clauses[:1]
    first = list(cap_reply(iter(["word " * 40]), max_sentences=2, max_words=10))
    assert len(words(first[0])) == 10


def test_a_long_fact_is_cut_to_two_sentences():
    config = Config()
    text = "Breakfast is at 7. It is in the Garden Room. Eggs are cooked to order."
    long_site = dataclasses.replace(SITE, facts=(dataclasses.replace(SITE.fact("breakfast"), text=text),))

    class Fixed:
        def current(self):
            return long_site

    answerer = Answerer(config, None, Fixed())  # type: ignore[arg-type]
    assert answer(answerer, "breakfast?") == "Breakfast is at 7. It is in the Garden Room."


def test_a_question_no_fact_answers_gets_the_fallback_without_the_model():
    model = ScriptedModel("The casino opens at 9 pm.")
    answerer = Answerer(MODEL, model)
    assert answer(answerer, "Is there a casino?") == SITE.fallback
    assert answerer.last.fallback and answerer.last.facts == []
    assert model.prompts == []


@pytest.mark.parametrize("question", ["?!...", "", "   ", "…"])
def test_a_question_of_only_punctuation_gets_the_fallback(question):
    assert answer(Answerer(Config()), question) == SITE.fallback


def test_small_talk_gets_a_reply_without_facts():
    answerer = Answerer(MODEL, ScriptedModel("Breakfast is at 7."))
    assert answer(answerer, "Thank you very much!") == "You're welcome."
    assert answerer.last.facts == [] and answerer.last.source == "small_talk"
    assert answer(answerer, "Hello there") == "Hello, how can I help you?"


def test_a_5000_character_question_gets_a_reply_and_a_bounded_prompt():
    model = ScriptedModel("Breakfast is served in the Garden Room.")
    answerer = Answerer(MODEL, model)
    question = "so " * 1700 + "when is breakfast"
    assert len(question) > 5000
    assert answer(answerer, question) == "Breakfast is served in the Garden Room."
    user_turn = model.prompts[0][-1]["content"]
    assert len(user_turn) < Config().knowledge.max_question_chars + 300


def test_only_the_retrieved_facts_reach_the_prompt():
    model = ScriptedModel("Dinner is in the Harbour Grill.")
    answer(Answerer(MODEL, model), "When is dinner?")
    prompt = "\n".join(message["content"] for message in model.prompts[0])
    assert SITE.fact("dinner").text in prompt
    others = [fact.text for fact in SITE.facts if fact.topic != "dinner"]
    assert not [text for text in others if text in prompt]
    assert "Harbour View Hotel" in model.prompts[0][0]["content"]    # {name} filled in


def test_a_correction_after_a_cut_is_answered_from_its_own_facts():
    model = ScriptedModel("Dinner is served from 6 to 10 pm.")
    answerer = Answerer(MODEL, model)
    conversation = answerer.new_conversation()
    conversation.add_user("Can you tell me about breakfast?")
    list(answerer.reply(conversation))
    conversation.truncate_to_heard(0, [])                 # cut before a word was heard
    conversation.add_user("No, sorry, I meant dinner.")
    assert " ".join(answerer.reply(conversation)) == "Dinner is served from 6 to 10 pm."
    assert answerer.last.facts == ["dinner"]
    prompt = model.prompts[-1]
    assert prompt[1]["content"] == "Can you tell me about breakfast?"   # earlier turns: bare words
    assert SITE.fact("breakfast").text not in "\n".join(m["content"] for m in prompt)


def test_the_default_reply_is_the_facts_own_text_without_a_model():
    answerer = Answerer(Config())
    assert answer(answerer, "when his dinner") == SITE.fact("dinner").text
    assert answerer.last.source == "fact" and answerer.last.facts == ["dinner"]


def test_a_long_first_clause_is_split_where_a_speaker_could_pause():
    fact = "Breakfast is served from 7 to 10:30 am in the Garden Room."
    assert list(lead_early(iter([fact, "Enjoy."]))) == [
        "Breakfast is served", "from 7 to 10:30 am in the Garden Room.", "Enjoy."]
    assert list(lead_early(iter(["Check-out is at 11 am."]))) == ["Check-out is at 11 am."]
