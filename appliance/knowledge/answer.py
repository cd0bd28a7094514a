"""The one reply path: the caller's words → facts → model phrasing → checked, capped clauses.

`appliance ask`, the voice pipeline after ASR and the re-plan after a barge-in
all call `Answerer.reply(conversation)`, which yields the clauses TTS speaks:

1. Small talk ("hello", "thanks") gets a short fixed reply that states no fact.
2. Retrieval picks the facts that answer the latest caller's turn; with none,
   the reply is the site's fallback (no model call: nothing to phrase).
3. With `phrasing = "fact"` (the default, see the config for why) the best
   fact's own text is the answer. With "model", the facts are attached to
   that turn only (`Conversation.show_latest_as`) and the model phrases the
   answer, streamed clause by clause.
4. Each clause is checked (`grounding`) before it is yielded; the first one
   with an unbacked detail is not spoken, the model is stopped, and the fact's
   own text is spoken from there instead.
5. Every reply stops at `max_sentences` sentences and `max_words` words,
   whatever produced it (a list without full stops included), and a long
   first clause is split so that TTS can start on its first words.

`last` records how the latest reply was made (facts, fallback, what was
rejected) for `appliance ask --json` and the event log.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field

from appliance.agent.history import Conversation
from appliance.config import Config
from appliance.knowledge.grounding import Grounds, ends_sentence
from appliance.knowledge.retrieval import FactIndex, Match, content_stems, tokens
from appliance.knowledge.site import Fact, KnowledgeFile, Site
from appliance.speech.clauses import split_clauses, words

log = logging.getLogger(__name__)

SMALL_TALK_WORDS = frozenset("""
hello hi hey hiya thanks thank you cheers bye goodbye good morning afternoon evening night day
okay ok great nice lovely fine how are doing there ta much very so that's that all it is appreciate
it perfect cool wonderful see later
""".split())
GREETINGS = frozenset({"hello", "hi", "hey", "hiya", "morning", "afternoon", "evening"})
FAREWELLS = frozenset({"bye", "goodbye", "later", "night"})
THANKS = frozenset({"thanks", "thank", "cheers", "ta", "appreciate"})

SMALL_TALK_REPLIES = ((THANKS, "You're welcome."), (FAREWELLS, "Goodbye, enjoy your stay."),
                      (GREETINGS, "Hello, how can I help you?"))
"""What small talk gets, first match wins."""

Phrase = Callable[[Conversation], Iterable[str]]
"""The model's clause stream for a conversation (`LocalLlm.stream_clauses`)."""


@dataclass
class AnswerRecord:
    """How one reply was made."""

    facts: list[str] = field(default_factory=list)
    """Topics the reply was grounded on (empty for a fallback or small talk)."""
    fallback: bool = False
    source: str = "model"
    """model | fact (a clause was rejected, the fact's text followed) | fallback | small_talk"""
    rejected: str | None = None
    """Why a model clause was not spoken, e.g. "number '1-800-642-3579'"."""
    clauses: list[str] = field(default_factory=list)

    @property
    def text(self) -> str:
        return " ".join(self.clauses)


def small_talk_reply(question: str) -> str | None:
    """A fact-free reply when the caller's words are only greeting, thanks or goodbye."""
    said = [word for word in tokens(question) if word not in ("the", "a", "to", "for", "and")]
    if not said or not all(word in SMALL_TALK_WORDS for word in said):
        return None
    spoken = set(said)
    for kind, reply in SMALL_TALK_REPLIES:
        if spoken & kind:
            return reply
    return None


def cap_reply(clauses: Iterable[str], max_sentences: int, max_words: int) -> Iterator[str]:
    """The clauses up to `max_sentences` sentences and `max_words` words.

    A clause with no closing punctuation ends a sentence (a list written one
    item per line has no full stops). A clause that would pass the word budget
    is not spoken; if it is the first, its first `max_words` words are. Closing
    the source early cancels the model's generation.
    """
    sentences = spoken = 0
    try:
        for clause in clauses:
            count = len(words(clause))
            if spoken + count > max_words:
                if spoken == 0:
                    yield " ".join(clause.split()[:max_words]).rstrip(",;:—-") + "."
                return
            yield clause
            spoken += count
            sentences += ends_sentence(clause)
            if sentences >= max_sentences:
                return
    finally:
        _close(clauses)


def _close(clauses: Iterable[str]) -> None:
    """Close a clause generator early: for the model's stream that cancels the generation."""
    close = getattr(clauses, "close", None)
    if close is not None:
        close()


LEAD_BREAKS = frozenset("""
from in on at for until till to with by under near next behind across along every and but or which
where when so because
""".split())
"""Words a first clause may be split before: where a speaker could pause."""
LEAD_MIN_WORDS = 3
LEAD_SPLIT_WORDS = 7


def lead_early(clauses: Iterable[str]) -> Iterator[str]:
    """The clauses, with a long first one split before a preposition or conjunction.

    TTS synthesises a whole clause before it plays, so the first sound waits
    for the first clause: "Breakfast is served | from 7 to 10:30 am in the
    Garden Room." starts speaking after three words' synthesis, not twelve.
    """
    source = iter(clauses)
    try:
        first = next(source, None)
        if first is None:
            return
        parts = first.split()
        if len(parts) >= LEAD_SPLIT_WORDS:
            for index in range(LEAD_MIN_WORDS, len(parts) - LEAD_MIN_WORDS + 1):
                if parts[index].lower() in LEAD_BREAKS:
                    yield " ".join(parts[:index])
                    first = " ".join(parts[index:])
                    break
        yield first
        yield from source
    finally:
        _close(source)


class Answerer:
    """Answers the latest caller's turn of a conversation from the site's facts."""

    def __init__(self, config: Config, phrase: Phrase | None = None,
                 knowledge: KnowledgeFile | None = None) -> None:
        self._settings = config.knowledge
        self._llm = config.llm
        self._phrase = phrase
        self.knowledge = knowledge if knowledge is not None else KnowledgeFile(config.knowledge.file or None)
        self._site: Site | None = None
        self._index: FactIndex | None = None
        self.last = AnswerRecord()

    @property
    def site(self) -> Site:
        site = self.knowledge.current()
        if site is not self._site:
            self._site, self._index = site, FactIndex(site.facts)
        return site

    @property
    def system_prompt(self) -> str:
        site = self.site
        return self._llm.system_prompt.replace("{name}", site.name).replace("{role}", site.role)

    def new_conversation(self) -> Conversation:
        return Conversation(self.system_prompt, self._llm.interruption_note)

    def retrieve(self, question: str) -> list[Fact]:
        """The facts that answer `question` (best first), none if nothing does."""
        self.site  # noqa: B018 - refreshes the index when the knowledge file changed
        assert self._index is not None
        matches = [m for m in self._index.search(question, self._settings.max_facts)
                   if m.coverage >= self._settings.min_coverage]
        return [m.fact for m in self._keep_close(matches)]

    def _keep_close(self, matches: list[Match]) -> list[Match]:
        if not matches:
            return []
        best = matches[0]
        return [best] + [m for m in matches[1:] if m.coverage >= best.coverage
                         and m.score >= self._settings.second_fact_ratio * best.score]

    def openings(self) -> list[str]:
        """The first clause of every reply the site's own words make (each fact's text, the
        fallback, small talk), exactly as `reply` would speak it: what the voice can
        synthesise ahead of time."""
        site = self.site
        texts = [fact.text for fact in site.facts] + [site.fallback]
        texts += [reply for _words, reply in SMALL_TALK_REPLIES]
        firsts = [next(lead_early(cap_reply(split_clauses(text), self._llm.max_sentences,
                                            self._llm.max_words)), None) for text in texts]
        return list(dict.fromkeys(first for first in firsts if first))

    def reply(self, conversation: Conversation) -> Iterator[str]:
        """The clauses to speak for the conversation's latest caller's turn."""
        record = self.last = AnswerRecord()
        capped = cap_reply(self._clauses(conversation, record), self._llm.max_sentences,
                           self._llm.max_words)
        return self._record(record, lead_early(capped))

    @staticmethod
    def _record(record: AnswerRecord, clauses: Iterator[str]) -> Iterator[str]:
        try:
            for clause in clauses:
                record.clauses.append(clause)
                yield clause
        finally:
            clauses.close()

    def _clauses(self, conversation: Conversation, record: AnswerRecord) -> Iterator[str]:
        question = conversation.last_user_text
        site = self.site
        chat = small_talk_reply(question)
        if chat is not None:
            record.source = "small_talk"
            yield chat
            return
        facts = self.retrieve(question)
        if not facts:
            record.source, record.fallback = "fallback", True
            yield from split_clauses(site.fallback)
            return
        record.facts = [fact.topic for fact in facts]
        if self._phrase is None or self._settings.phrasing == "fact":
            record.source = "fact"
            yield from split_clauses(facts[0].text)
            return
        conversation.show_latest_as(self._prompt_text(facts, question))
        grounds = Grounds.of([site.name, question, *(fact.text for fact in facts)])
        yield from self._grounded(self._phrase(conversation), grounds, facts, question, record)

    def _prompt_text(self, facts: list[Fact], question: str) -> str:
        """The caller's turn as the model reads it: the facts, then the (bounded) question."""
        lines = "\n".join(f"- {fact.text}" for fact in facts)
        return f"Facts:\n{lines}\nQuestion: {question[: self._settings.max_question_chars]}"

    def _grounded(self, clauses: Iterable[str], grounds: Grounds, facts: list[Fact], question: str,
                  record: AnswerRecord) -> Iterator[str]:
        """The model's clauses while they are backed and on topic; then, if the answer is
        not said yet, the best fact's own text."""
        asked = set(content_stems(question)) | set(content_stems(self.site.name))
        on_topic = {term for fact in facts for term in content_stems(fact.text)} - asked
        spoken: list[str] = []
        source = iter(clauses)
        try:
            for clause in source:
                starts_sentence = not spoken or ends_sentence(spoken[-1])
                problem = grounds.problem(clause, starts_sentence)
                if problem is None and not on_topic.intersection(content_stems(clause)):
                    problem = "nothing from the facts"
                if problem is not None:
                    record.rejected = problem
                    log.info("not spoken (%s): %r", problem, clause)
                    break
                spoken.append(clause)
                yield clause
            else:
                if spoken:
                    return
                record.rejected = "no reply"
        finally:
            _close(source)
        if spoken and _says(" ".join(spoken), facts[0].text):
            return
        record.source = "fact"
        yield from split_clauses(facts[0].text)


def _says(spoken: str, fact_text: str) -> bool:
    """Whether `spoken` already carries the fact's details (its numbers and most of its words)."""
    said, fact = Grounds.of([spoken]), Grounds.of([fact_text])
    fact_terms = set(content_stems(fact_text))
    shared = fact_terms.intersection(content_stems(spoken))
    return fact.numbers <= said.numbers and len(shared) >= len(fact_terms) / 2
