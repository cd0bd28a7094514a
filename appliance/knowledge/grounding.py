"""Is a clause the model wrote backed by the facts? Checked before TTS speaks it.

A small model phrases well enough but invents the details a guest acts on:
numbers, times, prices, phone numbers, names. So every such detail in a
clause must appear in the text it is allowed to draw on (the retrieved facts,
the site's name and the caller's question); anything else means the clause is
not spoken. The checks are deliberately strict: a false alarm costs only
phrasing (the fact's own words are spoken instead), a miss tells a guest a
wrong time.

- Numbers, as digits or words ("seven", "fifteen"), compared by their digits
  ("10:30" = "1030"; "15.00" = "15"), so "1-800-642-3579" is one number that
  must appear whole.
- "am"/"pm": a clause's time of day must appear in the allowed text.
- Names: a capitalised word must appear in the allowed text (case-insensitive),
  except a common word opening a sentence.
- Words that state a price or time without a digit ("free", "noon",
  "midnight"), e-mail and web addresses.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

from appliance.speech.clauses import SENTENCE_END

NUMBER_WORDS = {
    "zero": 0, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7, "eight": 8,
    "nine": 9, "ten": 10, "eleven": 11, "twelve": 12, "thirteen": 13, "fourteen": 14, "fifteen": 15,
    "sixteen": 16, "seventeen": 17, "eighteen": 18, "nineteen": 19, "twenty": 20, "thirty": 30,
    "forty": 40, "fifty": 50, "sixty": 60, "seventy": 70, "eighty": 80, "ninety": 90,
    "hundred": 100, "thousand": 1000, "second": 2, "third": 3, "fourth": 4, "fifth": 5, "sixth": 6,
    "seventh": 7, "eighth": 8, "ninth": 9, "tenth": 10,
}
"""Number words checked like digits. "one" and "first" are left out: as pronoun and
adverb ("the one by the door", "first, ...") they are rarely a number."""

CLAIM_WORDS = frozenset({"free", "noon", "midnight", "complimentary"})
"""Words that state a price or a time on their own."""

COMMON_OPENERS = frozenset("""
a an the this that these those it its it's there here they we you your our my i i'm i'll i'd yes
no sure certainly of course please sorry unfortunately thanks thank welcome hello hi good great
in on at from for to by with after before during every each all both our just also and but or so
if when where what which who how why is are was were can could will would may might should do does
did have has had be been being not never always usually only then yes okay ok well oh absolutely
guests guest rooms room you'll we're you're they're there's that's here's let's
""".split())
"""Words that may open a sentence capitalised without being a name."""

_NUMBER = re.compile(r"\d+(?:[-.:/,]\d+)*")
_WORD = re.compile(r"[A-Za-z][A-Za-z'’-]*")
_MERIDIEM = re.compile(
    r"(?:\d|\b(?:one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve))\s*([ap])\.?\s?m\b",
    re.IGNORECASE,
)
_ADDRESS = re.compile(r"\S+@\S+|\bwww\.\S+|\S+\.(?:com|org|net)\b", re.IGNORECASE)


def _digits(number: str) -> str:
    """A number's digits, with a trailing ".00"/":00" dropped ("15.00" and "15" agree)."""
    number = re.sub(r"[.:,]00$", "", number)
    return re.sub(r"\D", "", number).lstrip("0") or "0"


def _numbers(text: str) -> set[str]:
    """Every number in `text`, whole and by its digit groups, as digit strings."""
    found: set[str] = set()
    for match in _NUMBER.finditer(text):
        found.add(_digits(match.group()))
        found.update(_digits(part) for part in re.split(r"\D+", match.group()) if part)
    for word in _WORD.findall(text.lower()):
        if word in NUMBER_WORDS:
            found.add(str(NUMBER_WORDS[word]))
    return found


def _meridiems(text: str) -> set[str]:
    return {match.group(1).lower() for match in _MERIDIEM.finditer(text)}


def _words(text: str) -> set[str]:
    return {word.lower().strip("'’-") for word in _WORD.findall(text)}


@dataclass(frozen=True)
class Grounds:
    """The text a reply may draw details from, indexed for the checks."""

    numbers: frozenset[str]
    meridiems: frozenset[str]
    words: frozenset[str]
    lower_text: str

    @classmethod
    def of(cls, texts: Iterable[str]) -> Grounds:
        text = "\n".join(texts)
        return cls(numbers=frozenset(_numbers(text)), meridiems=frozenset(_meridiems(text)),
                   words=frozenset(_words(text)), lower_text=text.lower())

    def problem(self, clause: str, starts_sentence: bool = True) -> str | None:
        """Why `clause` may not be spoken (the first unbacked detail), or None if it may."""
        for match in _NUMBER.finditer(clause):
            if _digits(match.group()) not in self.numbers:
                return f"number {match.group()!r}"
        for word in _WORD.findall(clause):
            lower = word.lower()
            if lower in NUMBER_WORDS and str(NUMBER_WORDS[lower]) not in self.numbers:
                return f"number {word!r}"
            if lower in CLAIM_WORDS and lower not in self.words:
                return f"claim {word!r}"
        for meridiem in _meridiems(clause) - self.meridiems:
            return f"time of day '{meridiem}m'"
        for address in _ADDRESS.findall(clause):
            if address.lower().rstrip(".,") not in self.lower_text:
                return f"address {address!r}"
        return self._name_problem(clause, starts_sentence)

    def _name_problem(self, clause: str, starts_sentence: bool) -> str | None:
        opener = starts_sentence
        for token in clause.split():
            word_match = _WORD.search(token)
            if word_match is None:
                continue
            word = word_match.group()
            lower = word.lower().strip("'’-")
            capitalised = word[0].isupper() and lower not in ("i", "i'm", "i'll", "i'd", "i've")
            if capitalised and lower not in self.words:
                if not (opener and lower in COMMON_OPENERS):
                    return f"name {word!r}"
            opener = token.endswith(SENTENCE_END)
        return None


def ends_sentence(clause: str) -> bool:
    """A clause ends a sentence at a full stop (or ! ? …) or with no punctuation at all
    (the last item of a list written one per line)."""
    stripped = clause.rstrip().rstrip("\"')")
    return stripped.endswith(SENTENCE_END) or stripped[-1:] not in (",", ";", ":", "—", "-")
