"""Clauses and words: the units TTS speaks and the conversation counts.

A clause is what TTS synthesises and the speaker queue plays as one chunk:
short enough that the first one is ready fast, long enough to keep natural
prosody. It ends at sentence punctuation, or at a comma, semicolon, colon or
dash once it has `min_words` words (a lone "Yes," would cost a TTS round trip
and sound choppy). Text may arrive in pieces (an LLM streaming its reply):
`ClauseSplitter` hands out each clause as soon as it is complete, and
punctuation only ends a clause once the next character is known to be
whitespace, so "3.5", "9:30" and "a.m." stay whole. `split_clauses` is the
same splitter over a whole text. A word is what the conversation counts when
it cuts an utterance to what the caller heard; `words()` is the one
definition both sides share.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator

SENTENCE_END = (".", "!", "?", "…")
"""What ends a sentence, for every rule that asks (clauses, the heard-word cut, grounding)."""
CLAUSE_END = ",;:—"
MIN_CLAUSE_WORDS = 4
"""Words a comma-ended clause needs before it is spoken on its own."""

ABBREVIATIONS = frozenset(
    {"mr", "mrs", "ms", "dr", "st", "prof", "no", "vs", "etc", "e.g", "i.e", "a.m", "p.m", "approx"}
)
"""Words whose trailing period does not end a sentence."""

_TRAILING_WORD = re.compile(r"([\w.]+)\.$")
_HAS_SOUND = re.compile(r"\w")


def words(text: str) -> list[str]:
    """The words of `text` as spoken: whitespace tokens that contain a letter or digit.

    Tokens are kept verbatim (with attached punctuation) so that joining the
    words the caller heard gives readable text for the conversation history.
    """
    return [token for token in text.split() if _HAS_SOUND.search(token)]


class ClauseSplitter:
    """Accumulates text pieces and hands out every clause as soon as it is complete."""

    def __init__(self, min_words: int = MIN_CLAUSE_WORDS) -> None:
        self._min_words = min_words
        self._pending = ""

    def feed(self, piece: str) -> list[str]:
        """Add a piece of text; return the clauses it completed (possibly none)."""
        self._pending += piece
        clauses = []
        while (end := self._first_boundary()) is not None:
            clause, self._pending = self._pending[:end].strip(), self._pending[end:]
            if clause:
                clauses.append(clause)
        return clauses

    def flush(self) -> str | None:
        """The unfinished tail at the end of the text, if any."""
        tail, self._pending = self._pending.strip(), ""
        return tail or None

    def _first_boundary(self) -> int | None:
        """Index just past the first clause-ending punctuation followed by whitespace."""
        text = self._pending
        for index in range(len(text) - 1):
            mark, following = text[index], text[index + 1]
            if following == "\n" and text[: index + 1].strip():
                return index + 1
            if not following.isspace():
                continue
            if mark in SENTENCE_END and not _ends_with_abbreviation(text[: index + 1]):
                return index + 1
            if mark in CLAUSE_END and len(words(text[:index])) >= self._min_words:
                return index + 1
        return None


def _ends_with_abbreviation(text: str) -> bool:
    match = _TRAILING_WORD.search(text)
    return bool(match) and match.group(1).lower() in ABBREVIATIONS


def stream_clauses(pieces: Iterable[str], min_words: int = MIN_CLAUSE_WORDS) -> Iterator[str]:
    """Complete clauses from streamed text, the unfinished tail last.

    A clause without any word (stray punctuation) is not yielded: there is
    nothing in it to speak.
    """
    splitter = ClauseSplitter(min_words)
    for piece in pieces:
        yield from (clause for clause in splitter.feed(piece) if words(clause))
    tail = splitter.flush()
    if tail and words(tail):
        yield tail


def split_clauses(text: str, min_words: int = MIN_CLAUSE_WORDS) -> list[str]:
    """The clauses of a whole text, in order; every word lands in exactly one."""
    return list(stream_clauses([text], min_words))
