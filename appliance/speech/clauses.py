"""Splitting agent text into clauses and words, the units TTS works in.

A clause is what TTS synthesises and the speaker queue plays as one chunk:
short enough that the first one is ready fast, long enough to keep natural
prosody. A word is what the conversation counts when it cuts an utterance
to what the caller heard; `words()` is the one definition both sides share.
"""

from __future__ import annotations

import re

_ABBREVIATIONS = frozenset({"mr", "mrs", "ms", "dr", "st", "prof", "e.g", "i.e", "etc", "vs", "approx"})
_SENTENCE_END = re.compile(r"(?<=[.!?;:])\s+")
_COMMA = re.compile(r"(?<=,)\s+")
_HAS_SOUND = re.compile(r"\w")


def words(text: str) -> list[str]:
    """The words of `text` as spoken: whitespace tokens that contain a letter or digit.

    Tokens are kept verbatim (with attached punctuation) so that joining the
    words the caller heard gives readable text for the conversation history.
    """
    return [token for token in text.split() if _HAS_SOUND.search(token)]


def _ends_with_abbreviation(piece: str) -> bool:
    last = piece.split()[-1].rstrip(".").lower() if piece.split() else ""
    return piece.endswith(".") and last in _ABBREVIATIONS


def _sentences(text: str) -> list[str]:
    """Split at sentence punctuation, re-joining pieces cut after an abbreviation ("Mr. Smith")."""
    sentences: list[str] = []
    for piece in _SENTENCE_END.split(text.strip()):
        if sentences and _ends_with_abbreviation(sentences[-1]):
            sentences[-1] = f"{sentences[-1]} {piece}"
        else:
            sentences.append(piece)
    return sentences


def _split_long(sentence: str, min_words: int) -> list[str]:
    """Split a sentence at commas, keeping at least `min_words` words on each side of a cut."""
    clauses: list[str] = []
    for piece in _COMMA.split(sentence):
        if clauses and (len(words(clauses[-1])) < min_words or len(words(piece)) < min_words):
            clauses[-1] = f"{clauses[-1]} {piece}"
        else:
            clauses.append(piece)
    return clauses


def split_clauses(text: str, min_words: int = 4) -> list[str]:
    """Clauses of `text` in order: sentences, and long sentences cut at commas.

    Every word of `text` lands in exactly one clause; clauses without any
    word (stray punctuation) are dropped.
    """
    clauses: list[str] = []
    for sentence in _sentences(text):
        clauses.extend(_split_long(sentence, min_words))
    return [clause for clause in clauses if words(clause)]
