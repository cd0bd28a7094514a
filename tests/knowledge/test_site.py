"""The knowledge file: the contract's validation errors, and a reload that fails keeps the facts."""

from __future__ import annotations

import logging
import os
from pathlib import Path

import pytest

from appliance.errors import ConfigError
from appliance.knowledge.site import KnowledgeFile, demo_site_path, load_site

MUSEUM = Path(__file__).resolve().parent.parent / "answers" / "museum.toml"
GOOD = """
[site]
name = "Town Library"
role = "the help desk"
fallback = "Please ask a librarian."

[[fact]]
topic = "opening"
text = "The library opens at 9 am."

[[fact]]
topic = "wifi"
text = "The Wi-Fi is free."
"""


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "site.toml"
    path.write_text(text, encoding="utf-8")
    return path


def test_the_demo_site_has_at_least_25_facts():
    site = load_site(None)
    assert site.path == str(demo_site_path())
    assert len(site.facts) >= 25
    assert len({fact.topic for fact in site.facts}) == len(site.facts)


def test_a_second_site_loads():
    site = load_site(MUSEUM)
    assert site.name == "Rivermouth Maritime Museum" and len(site.facts) == 12


@pytest.mark.parametrize(("change", "key", "expected"), [
    (lambda t: t.replace('text = "The Wi-Fi is free."', 'text = "  "'), "fact[2].text", "non-empty"),
    (lambda t: t.replace('topic = "wifi"', 'topic = "opening"'), "fact[2].topic", "unique"),
    (lambda t: t.replace('role = "the help desk"\n', ""), "site.role", "required"),
    (lambda t: t.replace('topic = "wifi"', 'topic = "wifi"\ncolour = "red"'), "fact[2].colour", "unknown"),
    (lambda t: t + '\n[extra]\nx = 1\n', "extra", "unknown"),
    (lambda t: t.replace('text = "The library opens at 9 am."', "text = 9"), "fact[1].text", "string"),
    (lambda t: t.split("[[fact]]")[0], "fact", "at least one"),
    (lambda t: "", "<file>", "empty"),
    (lambda t: t.replace("[site]", "[site"), "<syntax>", "TOML"),
])
def test_a_bad_file_is_one_line_naming_the_file_and_key(tmp_path, change, key, expected):
    path = write(tmp_path, change(GOOD))
    with pytest.raises(ConfigError) as caught:
        load_site(path)
    message = str(caught.value)
    assert message.startswith(f"{path}: {key}: ") and expected in message
    assert "\n" not in message


def test_a_missing_file_is_named(tmp_path):
    with pytest.raises(ConfigError, match="knowledge file does not exist"):
        load_site(tmp_path / "nowhere.toml")


def test_a_file_that_is_not_utf8_is_named(tmp_path):
    path = tmp_path / "latin1.toml"
    path.write_bytes(GOOD.replace("Town", "T\xf6wn").encode("latin-1"))
    with pytest.raises(ConfigError, match="UTF-8"):
        load_site(path)


def test_a_reload_that_fails_keeps_the_last_good_facts(tmp_path, caplog):
    path = write(tmp_path, GOOD)
    knowledge = KnowledgeFile(path)
    assert knowledge.current().fact("opening").text == "The library opens at 9 am."
    path.write_text(GOOD.replace("9 am", "8 am") + "\n[[fact]]\ntopic = 3\n", encoding="utf-8")
    os.utime(path, ns=(1, 1))          # a different stamp even within one clock tick
    with caplog.at_level(logging.ERROR):
        site = knowledge.current()
    assert site.fact("opening").text == "The library opens at 9 am."
    assert "fact[3].topic" in caplog.text and "keeping the last good facts" in caplog.text
    path.write_text(GOOD.replace("9 am", "8 am"), encoding="utf-8")
    os.utime(path, ns=(2, 2))
    assert knowledge.current().fact("opening").text == "The library opens at 8 am."
