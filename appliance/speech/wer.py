"""Word error rate, after a normaliser that forgives spelling but not words.

Recognisers and reference transcripts disagree on things that are not
recognition errors: case, punctuation, hyphens ("Call-Forward" / "call
forward"), digits against words ("press 2" / "press two"). `normalise` maps
both sides onto lower-case words with numbers spelled out, so the rate counts
only words that were misheard, dropped or invented.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

_ONES = ("zero one two three four five six seven eight nine ten eleven twelve thirteen fourteen "
         "fifteen sixteen seventeen eighteen nineteen").split()
_TENS = "_ _ twenty thirty forty fifty sixty seventy eighty ninety".split()
_SPELLINGS = {"ok": "okay", "mhm": "mm hmm", "mmhmm": "mm hmm", "uhhuh": "uh huh"}
"""One spelling for words recognisers write several ways."""
_TOKEN = re.compile(r"[a-z']+|[0-9]+")


def number_words(number: int) -> list[str]:
    """0 to 999,999 in words ("2" -> ["two"], "105" -> ["one", "hundred", "five"])."""
    if number < 20:
        return [_ONES[number]]
    if number < 100:
        return [_TENS[number // 10]] + (number_words(number % 10) if number % 10 else [])
    if number < 1000:
        rest = number_words(number % 100) if number % 100 else []
        return number_words(number // 100) + ["hundred"] + rest
    if number < 1_000_000:
        rest = number_words(number % 1000) if number % 1000 else []
        return number_words(number // 1000) + ["thousand"] + rest
    return [str(number)]


def normalise(text: str) -> list[str]:
    """Lower-case words; punctuation and hyphens are word breaks; digits spelled out."""
    words: list[str] = []
    for token in _TOKEN.findall(text.lower().replace("-", " ")):
        token = token.strip("'")
        if not token:
            continue
        if token.isdigit():
            words += number_words(int(token))
        else:
            words += _SPELLINGS.get(token, token).split()
    return words


def word_errors(reference: Sequence[str], hypothesis: Sequence[str]) -> int:
    """Substitutions + deletions + insertions (Levenshtein distance over words)."""
    previous = list(range(len(hypothesis) + 1))
    for i, ref in enumerate(reference, 1):
        current = [i]
        for j, hyp in enumerate(hypothesis, 1):
            current.append(min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (ref != hyp)))
        previous = current
    return previous[-1]


def word_error_rate(pairs: Sequence[tuple[str, str]]) -> float:
    """Errors over reference words, for (reference, hypothesis) texts, both normalised."""
    errors = words = 0
    for reference, hypothesis in pairs:
        ref = normalise(reference)
        errors += word_errors(ref, normalise(hypothesis))
        words += len(ref)
    return errors / words if words else 0.0
