"""The grounding check: a clause with a detail that is not in the facts is caught."""

from __future__ import annotations

import pytest

from appliance.knowledge.grounding import Grounds, ends_sentence

FACTS = Grounds.of([
    "Harbour View Hotel",
    "Breakfast is served from 7 to 10:30 am in the Garden Room.",
    "Late check-out costs 25 euros; parking is free for guests.",
    "when is breakfast",
])


@pytest.mark.parametrize("clause", [
    "Breakfast is served from 7 to 10:30 am in the Garden Room.",
    "You can have breakfast in the Garden Room,",
    "It starts at seven and ends at 10:30 am.",
    "Late check-out is 25 euros.",
    "Parking is free.",
    "Sure, breakfast is at the Harbour View Hotel.",
    "Unfortunately I'm not sure.",
])
def test_backed_clauses_may_be_spoken(clause):
    assert FACTS.problem(clause) is None


@pytest.mark.parametrize(("clause", "why"), [
    ("Breakfast: 7,051 (2.9)", "number"),
    ("For parking call 1-800-642-3579.", "number"),
    ("Check-out is usually 10 p.m.", "time of day"),
    ("Breakfast starts at eight.", "number"),
    ("It costs 25.50 euros.", "number"),
    ("Try the Grilled Lamb Shreekka,", "name"),
    ("and ask for Marco at the bar.", "name"),
    ("Breakfast is served at noon.", "claim"),
    ("Write to desk@harbourview.com for more.", "address"),
    ("The pool is on the 3rd floor.", "number"),
])
def test_a_clause_with_an_invented_detail_is_not_spoken(clause, why):
    problem = FACTS.problem(clause)
    assert problem is not None and problem.startswith(why)


def test_a_name_opening_a_sentence_is_checked_unless_it_is_a_common_word():
    assert FACTS.problem("Marco will help you.") is not None
    assert FACTS.problem("Certainly, the Garden Room.") is None
    assert FACTS.problem("certainly, Marco will help", starts_sentence=False) is not None


def test_i_am_is_not_a_time_of_day():
    assert FACTS.problem("I am glad to help with breakfast.") is None


@pytest.mark.parametrize(("clause", "ends"), [
    ("Breakfast is at 7.", True), ("Eggs", True), ("Breakfast is at 7,", False), ("and toast;", False),
])
def test_a_clause_without_punctuation_ends_a_sentence(clause, ends):
    assert ends_sentence(clause) is ends
