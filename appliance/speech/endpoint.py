"""When the caller has finished speaking: the one endpoint rule.

An utterance ends after a run of silence, and how long a run depends on what
the caller has said so far. A pause after words that form a whole question
("Is there parking at the hotel?") is almost always the end of the turn, so a
short silence (`asr.endpoint_complete_ms`) ends it. A statement's full stop
is weaker evidence (the recogniser writes one at every pause: "Oh, sorry." |
"I meant dinner."), so it waits the base silence. A pause after
a hesitation or a word that needs a continuation ("um", "and", "the", a
trailing comma) is the caller thinking, so a long one
(`asr.endpoint_hesitation_ms`) does. Anything else waits the base silence
(`asr.endpoint_silence_ms`). The words only count when the recogniser says
its draft covers every sound fed so far (`Recognizer.settled`): a draft that
lags the audio could call a half-said sentence complete.

The silence evidence comes from whoever has it: the kiosk uses the VAD on the
echo-cancelled signal; a recogniser fed offline (`appliance transcribe`)
uses its own loudness tracking. Both ask the same `EndpointRule`.
"""

from __future__ import annotations

import enum
import re

from appliance.config import AsrSettings

HESITATIONS = frozenset({"um", "uh", "er", "erm", "hmm", "hm", "mm", "ah", "like"})
"""Sounds of someone still thinking."""
DANGLING = frozenset("""
a an the and or but so because if than then to of for from with without at in on into onto by about
as my your our their his its
""".split())
"""Words nothing ends on, whatever punctuation the recogniser wrote after them
("Can you tell me about breakfast and?"): the caller has more to say."""
OPENERS = frozenset("""
is are was were be can could would should will do does did what where when which who how whether
i i'm we also just
""".split())
"""Words a statement does not end on, though a question may ("do you know where the
lift is?"): a question mark outweighs them."""

_WORD = re.compile(r"[a-z0-9'][a-z0-9'-]*")
"""A word as the rule reads it: "check-in" is one word, not "check" and a dangling "in"."""


class Completeness(enum.Enum):
    """What the words so far say about the end of the turn."""

    COMPLETE = "complete"      # a whole question: a short pause ends it
    HESITANT = "hesitant"      # the caller is still thinking: wait longer
    UNSURE = "unsure"          # no words, or words that say neither: the base wait


def completeness(text: str) -> Completeness:
    """Whether `text` (a recogniser's punctuated draft) reads as a finished turn."""
    stripped = text.strip().rstrip("\"'”’)")
    words = _WORD.findall(stripped.lower())
    if not words:
        return Completeness.UNSURE
    if words[-1] in HESITATIONS or words[-1] in DANGLING:
        return Completeness.HESITANT
    if stripped.endswith((",", "-", "—", "…", "...", ";", ":")):
        return Completeness.HESITANT
    if stripped.endswith("?"):
        return Completeness.COMPLETE
    if words[-1] in OPENERS:
        return Completeness.HESITANT
    return Completeness.UNSURE


class EndpointRule:
    """How much silence ends the turn, given what the caller has said so far."""

    def __init__(self, settings: AsrSettings) -> None:
        self._wait_ms = {
            Completeness.COMPLETE: float(settings.endpoint_complete_ms),
            Completeness.UNSURE: float(settings.endpoint_silence_ms),
            Completeness.HESITANT: float(settings.endpoint_hesitation_ms),
        }

    def wait_ms(self, words: str | None, settled: bool = True) -> float:
        """The silence that ends the turn after these words (None: none yet), ms."""
        return self._wait_ms[self._kind(words, settled)]

    def ended(self, silence_ms: float, words: str | None, quiet_ms: float = 0.0,
              settled: bool = True) -> bool:
        """True once the silence since the last speech is as long as the words call for.

        `words` is the recogniser's latest settled draft of the utterance;
        `settled` says whether it still covers every sound (False once a new
        sound came after it: then a finished question is no longer known to be
        finished, while unfinished words stay unfinished). `silence_ms` is the
        VAD's silence run; `quiet_ms` the time since the last sound by level.
        After a whole question the level counts too: Silero's probability can
        hang around 0.5 for a few hundred milliseconds through a reverberant
        tail, while a pause inside a sentence ("No, sorry, I meant...") reads
        as unfinished words and waits for the VAD.
        """
        kind = self._kind(words, settled)
        if kind is Completeness.COMPLETE:
            silence_ms = max(silence_ms, quiet_ms)
        return silence_ms >= self._wait_ms[kind]

    @staticmethod
    def _kind(words: str | None, settled: bool) -> Completeness:
        kind = Completeness.UNSURE if words is None else completeness(words)
        return Completeness.UNSURE if kind is Completeness.COMPLETE and not settled else kind
