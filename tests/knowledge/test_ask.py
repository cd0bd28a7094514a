"""`appliance ask` per the contract, on a site the code was not written against (the museum)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from appliance.knowledge.grounding import Grounds
from appliance.knowledge.site import load_site

ANSWERS = Path(__file__).resolve().parent.parent / "answers"
MUSEUM = ANSWERS / "museum.toml"
KEYS = {"question", "reply", "facts", "fallback", "first_clause_ms", "total_ms"}


def ask(*args: str, stdin: str | None = None, config: Path | None = None) -> subprocess.CompletedProcess:
    command = [sys.executable, "-m", "appliance"]
    if config is not None:
        command += ["--config", str(config)]
    return subprocess.run([*command, "ask", *args], input=stdin, capture_output=True, text=True,
                          timeout=300, check=False)


def test_stdin_questions_get_one_json_line_each_in_order():
    questions = ["When are you open?", "Is there a planetarium?", "?!", "thanks", "where " * 1000]
    done = ask("--knowledge", str(MUSEUM), "--json", "-", stdin="\n".join(questions) + "\n")
    assert done.returncode == 0, done.stderr
    answers = [json.loads(line) for line in done.stdout.splitlines()]
    assert [a["question"] for a in answers] == questions
    for answer in answers:
        assert KEYS <= set(answer) and answer["reply"]
        assert isinstance(answer["first_clause_ms"], int) and answer["total_ms"] >= answer["first_clause_ms"]
    opening, planetarium, punctuation, thanks, _long = answers
    assert opening["facts"] == ["opening hours"] and not opening["fallback"]
    site = load_site(MUSEUM)
    for declined in (planetarium, punctuation):
        assert declined["fallback"] and declined["facts"] == [] and declined["reply"] == site.fallback
    assert thanks["facts"] == [] and not thanks["fallback"]


def test_a_single_question_prints_the_reply():
    done = ask("--knowledge", str(MUSEUM), "How much is a ticket for a child?")
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == load_site(MUSEUM).fact("tickets").text


def test_a_bad_knowledge_file_is_one_line_and_exit_2(tmp_path):
    bad = tmp_path / "bad.toml"
    bad.write_text(MUSEUM.read_text().replace('topic = "toilets"', 'topic = "cafe"'))
    done = ask("--knowledge", str(bad), "--json", "When are you open?")
    assert done.returncode == 2
    assert done.stdout == ""
    assert done.stderr.strip() == (f"appliance: {bad}: fact[5].topic: a unique topic; "
                                   "'cafe' is also fact[4]")


@pytest.mark.slow
def test_with_the_model_wording_answers_no_invented_detail_reaches_the_output(tmp_path):
    """Whatever SmolLM2 writes, every reply is backed by the museum's facts and the question."""
    config = tmp_path / "appliance.toml"
    config.write_text('[knowledge]\nphrasing = "model"\n')
    cases = [json.loads(line) for line in (ANSWERS / "museum.jsonl").read_text().splitlines()]
    questions = [case["question"] for case in cases]
    done = ask("--knowledge", str(MUSEUM), "--json", "-", stdin="\n".join(questions) + "\n",
               config=config)
    assert done.returncode == 0, done.stderr
    answers = [json.loads(line) for line in done.stdout.splitlines()]
    assert len(answers) == len(questions)
    knowledge = MUSEUM.read_text()
    for answer in answers:
        assert Grounds.of([knowledge, answer["question"]]).problem(answer["reply"]) is None, answer
