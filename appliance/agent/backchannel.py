"""Decide what an utterance that cut the agent off was: a backchannel, nothing, or a request.

A listener's "mm-hmm" or "okay" while the agent talks is encouragement to go
on, not a new turn: the agent resumes its sentence. Noise the recogniser turned
into nothing (or into a lone filler) is a false interruption. Everything else,
including a backchannel followed by more words ("yeah but which floor"), is a
request the agent must answer. Recognisers spell backchannels many ways
("mm hmm", "m hm", "uh-huh."), so the text is normalised before matching.
Moonshine writes them as "Okay.", "Yeah.", "Right.", "Got it.", "I see,",
"Um, okay.", "Mm-mm,"; a spoken "uh-huh" mostly comes back as "Ah." or
nothing, which is "empty" and resumes the sentence just the same.
"""

from __future__ import annotations

import re
from typing import Literal

Kind = Literal["backchannel", "empty", "request"]

BACKCHANNELS = frozenset(
    {
        "mm hmm", "mm hm", "m hm", "m hmm", "mhm", "mhmm", "mmhmm", "mmhm", "mm",
        "uh huh", "uhhuh", "uh hu", "a huh", "ah ha", "aha",
        "yeah", "yea", "yep", "yup", "okay", "ok", "o k", "kay", "alright", "all right",
        "right", "sure", "got it", "i see",
    }
)
"""Bare listener feedback, in normalised spelling (lower case, single spaces)."""

FILLERS = frozenset({"a", "uh", "um", "erm", "er", "ah", "oh", "hmm", "hm", "m", "mmm", "the", "unk"})
"""What recognisers make of breath, clicks, hums and room noise; "the" is the
small vosk model's classic guess for a noise burst, "M." Moonshine's for a hum,
never a request on their own."""

_NOT_WORD = re.compile(r"[^a-z']+")
_MAX_PHRASE_WORDS = max(len(phrase.split()) for phrase in BACKCHANNELS)


def normalise(text: str) -> list[str]:
    """Lower-case words with hyphens and punctuation turned into word breaks."""
    return [word.strip("'") for word in _NOT_WORD.split(text.lower()) if word.strip("'")]


def classify(text: str) -> Kind:
    """"backchannel", "empty" (nothing or only noise words) or "request"."""
    words = normalise(text)
    if all(word in FILLERS for word in words) and " ".join(words) not in BACKCHANNELS:
        return "empty"
    return "backchannel" if _only_backchannels(words) else "request"


def _only_backchannels(words: list[str]) -> bool:
    """True if the words are backchannel phrases back to back ("okay okay", "um yeah mhm").

    Fillers count as phrases here ("uh-huh" is two fillers to the normaliser).
    """
    if not words:
        return True
    for length in range(min(_MAX_PHRASE_WORDS, len(words)), 0, -1):
        phrase = " ".join(words[:length])
        if (phrase in BACKCHANNELS or phrase in FILLERS) and _only_backchannels(words[length:]):
            return True
    return False
