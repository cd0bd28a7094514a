"""The site's knowledge file: its name, where the kiosk stands, its fallback and its facts.

The format is a public contract (see docs/knowledge.md): other knowledge files
are run against it, so every problem is one line naming the file, the key
(`fact[3].text`) and what was expected, raised as a ConfigError (exit 2).
`KnowledgeFile` is what a running kiosk holds: it re-reads the file when it
changes on disk, and a reload that fails keeps the last good facts and logs why.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

from appliance.errors import ConfigError
from appliance.settings import read_toml

log = logging.getLogger(__name__)

DEMO_SITE = "demo_hotel.toml"
"""The package's own site, used when the config names no knowledge file."""

SITE_KEYS = ("name", "role", "fallback")
FACT_KEYS = ("topic", "text")


@dataclass(frozen=True)
class Fact:
    topic: str
    text: str


@dataclass(frozen=True)
class Site:
    """One validated knowledge file."""

    name: str
    role: str
    fallback: str
    facts: tuple[Fact, ...]
    path: str = ""

    def fact(self, topic: str) -> Fact:
        return next(fact for fact in self.facts if fact.topic == topic)


def demo_site_path() -> Path:
    """The demo hotel's knowledge file inside the installed package."""
    return Path(str(resources.files("appliance.knowledge").joinpath(DEMO_SITE)))


def load_site(path: Path | str | None = None) -> Site:
    """Read and validate a knowledge file; `None` or "" is the demo site."""
    path = Path(path) if path else demo_site_path()
    if not path.exists():       # says which file of the config is missing
        raise ConfigError(str(path), "<file>", "knowledge file does not exist")
    table = read_toml(path)
    return parse_site(table, str(path))


def parse_site(table: dict, path: str = "<knowledge>") -> Site:
    """Validate an already-parsed knowledge table."""
    if not table:
        raise ConfigError(path, "<file>", "a [site] table and at least one [[fact]] (the file is empty)")
    unknown = sorted(set(table) - {"site", "fact"})
    if unknown:
        raise ConfigError(path, unknown[0], "unknown key; expected only [site] and [[fact]]")
    site = table.get("site")
    if not isinstance(site, dict):
        raise ConfigError(path, "site", "a [site] table with name, role and fallback")
    fields = _strings(site, SITE_KEYS, "site", path)
    facts_table = table.get("fact")
    if not isinstance(facts_table, list) or not facts_table:
        raise ConfigError(path, "fact", "at least one [[fact]] with topic and text")
    facts: list[Fact] = []
    seen: dict[str, int] = {}
    for index, item in enumerate(facts_table, start=1):
        where = f"fact[{index}]"
        if not isinstance(item, dict):
            raise ConfigError(path, where, "a [[fact]] table with topic and text")
        topic, text = _strings(item, FACT_KEYS, where, path)
        if topic in seen:
            raise ConfigError(path, f"{where}.topic",
                              f"a unique topic; {topic!r} is also fact[{seen[topic]}]")
        seen[topic] = index
        facts.append(Fact(topic, text))
    name, role, fallback = fields
    return Site(name=name, role=role, fallback=fallback, facts=tuple(facts), path=path)


def _strings(table: dict, keys: tuple[str, ...], where: str, path: str) -> list[str]:
    """The required non-empty string values of `keys`; any other key is an error."""
    unknown = sorted(set(table) - set(keys))
    if unknown:
        raise ConfigError(path, f"{where}.{unknown[0]}",
                          f"unknown key; expected only {', '.join(keys)}")
    values = []
    for key in keys:
        if key not in table:
            raise ConfigError(path, f"{where}.{key}", "required, a non-empty string")
        value = table[key]
        if not isinstance(value, str) or not value.strip():
            raise ConfigError(path, f"{where}.{key}", "a non-empty string")
        values.append(" ".join(value.split()))
    return values


class KnowledgeFile:
    """The site a running kiosk answers from, re-read when its file changes.

    `current()` costs one stat() per question. A file that fails to load
    keeps the last good site (and is not retried until it changes again).
    """

    def __init__(self, path: Path | str | None = None) -> None:
        self.path = Path(path) if path else demo_site_path()
        self._stamp = self._stat()
        self._site = load_site(self.path)

    def current(self) -> Site:
        stamp = self._stat()
        if stamp != self._stamp:
            self._stamp = stamp
            try:
                self._site = load_site(self.path)
                log.info("knowledge reloaded from %s: %d facts", self.path, len(self._site.facts))
            except ConfigError as error:
                log.error("knowledge reload failed, keeping the last good facts: %s", error)
        return self._site

    def _stat(self) -> tuple[int, int] | None:
        try:
            status = self.path.stat()
        except OSError:
            return None
        return status.st_mtime_ns, status.st_size
