"""Cut a stream of LLM text pieces into clauses that TTS can speak one by one.

Speaking starts when the first clause is complete, not when the reply is, so
the split happens as the text streams in. A clause ends at sentence
punctuation, or at a comma/semicolon/colon once it is long enough to be worth
a separate synthesis call (a lone "Yes," would cost a TTS round trip and sound
choppy). Punctuation only ends a clause once the next character is known to be
whitespace, so "3.5", "9:30" and "a.m." stay whole.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator

SENTENCE_END = ".!?…"
CLAUSE_END = ",;:—"
MIN_CLAUSE_WORDS = 4
"""Words a comma-ended clause needs before it is spoken on its own."""

ABBREVIATIONS = frozenset(
    {"mr", "mrs", "ms", "dr", "st", "no", "vs", "etc", "e.g", "i.e", "a.m", "p.m", "approx"}
)
"""Words whose trailing period does not end a sentence."""

_TRAILING_WORD = re.compile(r"([\w.]+)\.$")


class ClauseSplitter:
    """Accumulates text pieces and hands out every clause as soon as it is complete."""

    def __init__(self) -> None:
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
        """The unfinished tail at the end of the reply, if any."""
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
            if mark in CLAUSE_END and len(text[:index].split()) >= MIN_CLAUSE_WORDS:
                return index + 1
        return None


def _ends_with_abbreviation(text: str) -> bool:
    match = _TRAILING_WORD.search(text)
    return bool(match) and match.group(1).lower() in ABBREVIATIONS


def split_clauses(pieces: Iterable[str]) -> Iterator[str]:
    """Yield complete clauses from streamed text, the unfinished tail last."""
    splitter = ClauseSplitter()
    for piece in pieces:
        yield from splitter.feed(piece)
    tail = splitter.flush()
    if tail:
        yield tail
