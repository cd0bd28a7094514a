"""The one endpoint rule: how long a silence ends the caller's turn, given the words so far."""

from __future__ import annotations

import pytest

from appliance.config import AsrSettings
from appliance.speech.endpoint import Completeness, EndpointRule, completeness

SETTINGS = AsrSettings(endpoint_complete_ms=300, endpoint_silence_ms=400, endpoint_hesitation_ms=900)


@pytest.mark.parametrize(("text", "kind"), [
    ("Is there parking at the hotel?", Completeness.COMPLETE),
    ("Do you know where the lift is?", Completeness.COMPLETE),   # "?" outweighs a trailing "is"
    ("When is check-in?", Completeness.COMPLETE),                # not a dangling "in"
    ("\"'Sorry, I meant dinner. When is dinner?'", Completeness.COMPLETE),
    ("I'd like to know about, um", Completeness.HESITANT),
    ("Where is the gym, um?", Completeness.HESITANT),
    ("Can you tell me about the", Completeness.HESITANT),
    ("Breakfast and", Completeness.HESITANT),
    ("Can you tell me about breakfast and?", Completeness.HESITANT),
    ("Where is", Completeness.HESITANT),
    ("Tell me about breakfast,", Completeness.HESITANT),
    ("Oh, sorry.", Completeness.UNSURE),        # a full stop at a pause is weak evidence
    ("Tell me about breakfast", Completeness.UNSURE),
    ("", Completeness.UNSURE),
])
def test_completeness_reads_the_draft(text, kind):
    assert completeness(text) is kind


def test_each_kind_waits_its_own_silence():
    rule = EndpointRule(SETTINGS)
    assert rule.wait_ms("Where is the pool?") == 300
    assert rule.wait_ms("Where is the pool") == 400
    assert rule.wait_ms(None) == 400                  # no settled draft: the base wait
    assert rule.wait_ms("Where is the, um") == 900


def test_the_level_counts_only_after_a_whole_question():
    """Silero can hang near 0.5 through a reverberant tail; the level ends a finished
    question, never a sentence that reads unfinished."""
    rule = EndpointRule(SETTINGS)
    assert rule.ended(100.0, "Where is the pool?", quiet_ms=300.0)
    assert not rule.ended(100.0, "Oh, sorry.", quiet_ms=800.0)
    assert not rule.ended(100.0, None, quiet_ms=800.0)
    assert rule.ended(400.0, "Oh, sorry.", quiet_ms=0.0)
    assert not rule.ended(800.0, "and the, um", quiet_ms=800.0)
    assert rule.ended(900.0, "and the, um")


def test_new_sound_after_a_whole_question_unsettles_it_but_not_unfinished_words():
    rule = EndpointRule(SETTINGS)
    assert rule.wait_ms("Where is the pool?", settled=False) == 400
    assert not rule.ended(100.0, "Where is the pool?", quiet_ms=300.0, settled=False)
    assert rule.wait_ms("Tell me about breakfast and", settled=False) == 900
