"""Which facts answer the caller's words, even when the recogniser misheard some.

Lexical retrieval (BM25 over stemmed words, the topic counted twice), made
robust to speech recognition in three ways, each measured on the answer
evaluation (docs/knowledge.md has the figures):
- function words ("when his dinner", "banks is their parking") carry no weight;
- a small table of front-desk synonyms maps a caller's word to the operator's
  ("lift" finds "elevator", "internet" finds "Wi-Fi"); it knows no site;
- a word the facts do not contain is matched to the closest fact word by
  spelling ("brekfast"), and two adjacent words are also tried joined
  ("brake fast", "wi fi", "check out").

A question the facts do not answer must fall back, not pick the least bad fact:
a fact is returned only when it covers most of the question's content words
(`coverage`, weighted by how rare each word is), so "is there a casino" does
not return the pool's opening hours for the shared word "open".
"""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from difflib import get_close_matches

from appliance.knowledge.site import Fact

STOPWORDS = frozenset("""
a about am an and any anything are as at be been being but by can could did do does doing for
from get got had has have having he her here hers him his how i i'd i'm if in into is it it's its
just let me might mine must my no not of off on or our ours please she should so some tell than
that the their theirs them then there these they this those to too us very was we were what
whats what's when where which while who whom why will with would you your yours yeah yes hi hey
hello thanks thank okay ok um uh er erm like know need want wanted wonder wondering excuse sorry
mean meant actually one also again still out up down over somewhere something anything anywhere
place go going help see come
""".split())
"""Words that say nothing about which fact is wanted (and many that a recogniser inserts)."""

GENERIC = frozenset("""
time times open opens opening close closes closing hour hours start starts end ends long much many
cost costs price prices pay charge fee where find located location way get available there tonight
today tomorrow morning evening night day week weekend weekday late early usually work working
leave take use get buy
""".split())
"""Content words that every kind of fact shares; they rank facts but never make one relevant."""

SYNONYMS: dict[str, tuple[str, ...]] = {
    "lift": ("elevator",), "elevator": ("lift",),
    "internet": ("wifi", "wi-fi", "wireless"), "wireless": ("wifi",), "network": ("wifi",),
    "password": ("wifi",), "online": ("wifi",),
    "car": ("parking", "garage"), "park": ("parking",), "garage": ("parking",),
    "toilet": ("restroom", "toilets", "bathroom", "washroom"), "restroom": ("toilet",),
    "bathroom": ("toilet", "restroom"), "washroom": ("toilet",), "loo": ("toilet",),
    "eat": ("restaurant", "dinner", "breakfast", "lunch", "food"),
    "food": ("restaurant", "cafe", "eat"), "meal": ("breakfast", "lunch", "dinner"),
    "supper": ("dinner",), "lunch": ("lunch", "cafe"), "evening": ("dinner", "pm", "night"),
    "morning": ("breakfast", "am"), "tonight": ("dinner", "pm", "night"), "drink": ("bar", "cafe"),
    "coffee": ("cafe", "breakfast"), "restaurant": ("dinner", "cafe", "lunch"),
    "leave": ("check-out", "checkout", "departure"), "depart": ("check-out", "checkout"),
    "arrive": ("check-in", "checkin", "arrival"), "checkin": ("check-in",), "checkout": ("check-out",),
    "fitness": ("gym",), "workout": ("gym",), "exercise": ("gym",), "gym": ("fitness",),
    "swim": ("pool", "swimming"), "swimming": ("pool",),
    "cab": ("taxi",), "taxi": ("cab",), "uber": ("taxi",),
    "dog": ("pets", "dogs"), "cat": ("pets",), "pet": ("pets", "dogs"),
    "cigarette": ("smoking", "smoke"), "smoke": ("smoking",),
    "wheelchair": ("accessible", "step-free", "accessibility"), "disabled": ("accessible",),
    "kid": ("children", "child", "baby"), "kids": ("children", "child"), "child": ("children",),
    "baby": ("cot", "child"), "crib": ("cot",),
    "money": ("cash", "atm"), "atm": ("cash machine",), "cashpoint": ("cash machine",),
    "card": ("payment", "visa", "mastercard"), "credit": ("card", "payment"), "pay": ("payment",),
    "medicine": ("pharmacy", "chemist"), "chemist": ("pharmacy",), "drugstore": ("pharmacy",),
    "bike": ("bicycle",), "bicycle": ("bike",), "rent": ("hire",), "hire": ("rent",),
    "bags": ("luggage", "baggage"), "bag": ("luggage",), "suitcase": ("luggage",),
    "baggage": ("luggage",), "luggage": ("baggage",),
    "plane": ("airport", "flight"), "flight": ("airport",), "train": ("station", "railway"),
    "railway": ("station", "train"), "bus": ("shuttle", "stop"), "shuttle": ("bus",),
    "clean": ("housekeeping", "cleaning"), "towel": ("towels", "housekeeping"),
    "wash": ("laundry",), "clothes": ("laundry",), "washing": ("laundry",),
    "print": ("printing", "printer"), "printer": ("printing",),
    "noise": ("quiet",), "noisy": ("quiet",), "loud": ("quiet",),
    "phone": ("dial", "call"), "call": ("dial", "phone"), "telephone": ("phone", "dial"),
    "ring": ("dial", "call"),
    "reception": ("front desk", "desk"), "desk": ("reception",), "staff": ("front desk",),
    "key": ("card",), "locked": ("key",),
    "sea": ("beach",), "seaside": ("beach",),
    "ticket": ("tickets", "admission", "entry"), "entry": ("admission", "tickets"),
    "admission": ("tickets", "entry"), "entrance": ("admission", "door"),
    "exhibition": ("exhibit", "gallery"), "exhibit": ("exhibition", "gallery"),
    "gift": ("shop",), "souvenir": ("shop",), "shop": ("store",), "store": ("shop",),
    "book": ("books", "loan", "borrow"), "borrow": ("loan", "books"), "lend": ("loan", "borrow"),
    "coat": ("cloakroom",), "jacket": ("cloakroom",), "photo": ("photography", "photograph"),
    "picture": ("photography",), "camera": ("photography",),
    "wake": ("wake-up",), "alarm": ("wake-up",),
}
"""A caller's word → words an operator may have written for it; generic to front desks."""

MIN_FUZZY_LENGTH = 4
FUZZY_CUTOFF = 0.8
_WORD = re.compile(r"[a-z0-9]+(?:['’-][a-z0-9]+)*")


def stem(word: str) -> str:
    """A light English suffix stripper: enough to meet "opens"/"opening"/"open"."""
    word = word.replace("’", "'").removesuffix("'s")
    for suffix, replacement in (("ies", "y"), ("sses", "ss"), ("ing", ""), ("ed", ""), ("es", ""),
                                ("s", ""), ("ly", "")):
        if word.endswith(suffix) and len(word) - len(suffix) >= 3:
            if suffix == "s" and word.endswith(("ss", "us", "is")):
                continue
            if suffix == "es" and not word.endswith(("ches", "shes", "xes", "sses", "zes")):
                continue
            return word[: -len(suffix)] + replacement
    return word


def tokens(text: str) -> list[str]:
    """Lower-case words; a hyphenated word also yields its parts and its joined form."""
    words: list[str] = []
    for word in _WORD.findall(text.lower()):
        if "-" in word:
            parts = word.split("-")
            words.extend([*parts, "".join(parts)])
        else:
            words.append(word)
    return words


def content_stems(text: str) -> list[str]:
    return [stem(word) for word in tokens(text) if word not in STOPWORDS]


@dataclass(frozen=True)
class Match:
    fact: Fact
    score: float
    coverage: float
    """Share of the question's content (rarity-weighted) this fact contains, 0..1."""


@dataclass(frozen=True)
class RetrievalOptions:
    fuzzy: bool = True
    synonyms: bool = True
    joined_words: bool = True


class FactIndex:
    """BM25 over the facts of one site, with the caller's-words expansions above."""

    K1 = 1.2
    B = 0.75

    def __init__(self, facts: Sequence[Fact], options: RetrievalOptions = RetrievalOptions()) -> None:
        self.facts = tuple(facts)
        self.options = options
        self._docs = [Counter(content_stems(f"{fact.topic} {fact.topic} {fact.text}")) for fact in facts]
        self._lengths = [sum(doc.values()) for doc in self._docs]
        self._average_length = sum(self._lengths) / max(1, len(self._lengths))
        frequency: Counter[str] = Counter()
        for doc in self._docs:
            frequency.update(doc.keys())
        count = len(self._docs)
        self._idf = {term: math.log(1 + (count - df + 0.5) / (df + 0.5)) for term, df in frequency.items()}
        self._unknown_idf = math.log(1 + (count + 0.5) / 0.5)
        self._vocabulary = sorted(self._idf)

    def search(self, question: str, limit: int = 2) -> list[Match]:
        """The best facts for `question`, best first, with their coverage of it."""
        terms = self._query_terms(question)
        if not terms:
            return []
        if all(generic for _stems, _weight, generic in terms.values()):
            # "When are you open?": the generic words are all the question has.
            terms = {word: (stems, weight, False) for word, (stems, weight, _g) in terms.items()}
        weight_total = sum(weight for _stems, weight, generic in terms.values() if not generic)
        matches = []
        for index, doc in enumerate(self._docs):
            score = covered = 0.0
            for stems, weight, generic in terms.values():
                best = max((self._term_score(index, doc, term) for term in stems), default=0.0)
                if best > 0:
                    score += best
                    covered += weight if not generic else 0.0
            if score > 0:
                coverage = covered / weight_total if weight_total else 0.0
                matches.append(Match(self.facts[index], score, coverage))
        matches.sort(key=lambda match: (-match.coverage, -match.score))
        return matches[:limit]

    def _term_score(self, index: int, doc: Counter[str], term: str) -> float:
        frequency = doc.get(term, 0)
        if not frequency:
            return 0.0
        norm = self.K1 * (1 - self.B + self.B * self._lengths[index] / self._average_length)
        return self._idf[term] * frequency * (self.K1 + 1) / (frequency + norm)

    def _query_terms(self, question: str) -> dict[str, tuple[set[str], float, bool]]:
        """Each content word of the question → (stems that may stand for it, weight, generic?).

        Generic words count for ranking but not for coverage. A word no fact
        contains weighs as much as the rarest fact word: it is what makes
        "is there a casino" unanswerable.
        """
        said = tokens(question)
        words = [word for word in said if word not in STOPWORDS]
        terms: dict[str, tuple[set[str], float, bool]] = {}
        joined = set()
        if self.options.joined_words:
            for first, second in zip(said, said[1:], strict=False):
                if first in STOPWORDS and second in STOPWORDS:
                    continue
                candidates = self._known(stem(first + second)) or self._known(first + second)
                if candidates:
                    joined.update((first, second))
                    terms[first + second] = (candidates, self._idf_of(candidates), False)
        for word in words:
            if word in joined:
                continue
            stems = {stem(word)}
            if self.options.synonyms:
                stems.update(self._synonym_stems(word))
            known = {term for term in stems if term in self._idf}
            if not known and self.options.fuzzy:
                known = self._close(stem(word))
            weight = self._idf_of(known) if known else self._unknown_idf
            terms[word] = (known, weight, word in GENERIC or stem(word) in GENERIC)
        return terms

    def _known(self, term: str) -> set[str]:
        """Fact words for a joined pair of caller's words ("wi fi", "work out")."""
        if term in self._idf:
            return {term}
        if self.options.synonyms:
            known = {word for word in self._synonym_stems(term) if word in self._idf}
            if known:
                return known
        return self._close(term) if self.options.fuzzy else set()

    @staticmethod
    def _synonym_stems(word: str) -> set[str]:
        """Stems of the operator's words for a caller's word; "check-out" stays one word."""
        found: set[str] = set()
        for synonym in SYNONYMS.get(word, ()) + SYNONYMS.get(stem(word), ()):
            if "-" in synonym:
                found.add(stem(synonym.replace("-", "")))
            else:
                found.update(content_stems(synonym))
        return found

    def _close(self, term: str) -> set[str]:
        """Fact words spelled like `term` (a misrecognised or misspelt word)."""
        if len(term) < MIN_FUZZY_LENGTH or term.isdigit():
            return set()
        close = get_close_matches(term, self._vocabulary, n=1, cutoff=FUZZY_CUTOFF)
        # A recogniser rarely gets the first sound wrong; requiring it keeps
        # "bank" from matching "bar".
        return {word for word in close if word[0] == term[0]}

    def _idf_of(self, stems: set[str]) -> float:
        return max((self._idf[term] for term in stems if term in self._idf), default=self._unknown_idf)
