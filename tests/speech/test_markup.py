"""Tags are dropped before synthesis; text that only looks like markup is kept."""

from __future__ import annotations

from appliance.speech.markup import strip_markup


def test_ssml_tags_are_dropped_and_entities_decoded():
    text = '<speak>Rooms &amp; suites.<break time="1s"/><p>Pool</p><p>Spa</p> <b>Welcome</b>.</speak>'
    assert strip_markup(text) == ("Rooms & suites. Pool Spa Welcome.", ["b", "break", "p", "speak"])


def test_comparisons_and_plain_text_are_untouched():
    for text in ("3 < 5 and 9 > 2.", "3<5>2", "Fish & chips &amp; more", "a <- b"):
        assert strip_markup(text) == (text, [])
