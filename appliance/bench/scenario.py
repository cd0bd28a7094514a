"""Scenario files of the barge-in bench (the public format of BENCH.md).

A scenario is one TOML file; `[room]` is validated by the simulated room's
own settings class, everything else here. Any mistake is a `ConfigError`
naming the file and the key, so a suite runner can report it in one line and
go on with the other files.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from pathlib import Path

from appliance.audio.acoustics import geometry_problem
from appliance.audio.room import RoomSettings
from appliance.errors import ConfigError
from appliance.settings import load_section, read_toml, setting

KINDS = ("interrupt", "backchannel", "noise", "echo-only")


@dataclass(frozen=True)
class ScenarioFile:
    """The keys of a scenario file, as written."""

    name: str = setting("", "unique name within the suite")
    kind: str = setting("", "what the caller does", choices=KINDS)
    agent_text: str = setting("", "what the agent says")
    caller_audio: str = setting("", "caller WAV relative to the scenario file; absent for echo-only")
    caller_text: str = setting("", "ground-truth words of the caller (optional)")
    caller_at_s: float = setting(0.0, "caller's first speech reaches the mic this long after the "
                                      "agent's first sample reaches the speaker, seconds", min=0)
    room: RoomSettings = dataclasses.field(default_factory=RoomSettings)


@dataclass(frozen=True)
class Scenario:
    path: Path
    name: str
    kind: str
    agent_text: str
    caller_audio: Path | None
    caller_text: str
    caller_at_s: float
    room: RoomSettings


def load_scenario(path: Path) -> Scenario:
    """Parse and validate one scenario file; raises ConfigError naming the key."""
    table = read_toml(path)
    raw = load_section(ScenarioFile, table, str(path))
    for key in ("name", "kind", "agent_text"):
        if key not in table or not getattr(raw, key).strip():
            raise ConfigError(str(path), key, "a non-empty string (required)")
    problem = geometry_problem(raw.room)
    if problem is not None:
        raise ConfigError(str(path), f"room.{problem[0]}", problem[1])
    caller_audio = None
    if raw.kind == "echo-only":
        if raw.caller_audio:
            raise ConfigError(str(path), "caller_audio", "absent for kind = \"echo-only\"")
    else:
        if not raw.caller_audio:
            raise ConfigError(str(path), "caller_audio", f"a WAV path (required for kind = \"{raw.kind}\")")
        caller_audio = (path.parent / raw.caller_audio).resolve()
        if not caller_audio.is_file():
            raise ConfigError(str(path), "caller_audio", f"an existing WAV file ({caller_audio} is missing)")
        if "caller_at_s" not in table:
            raise ConfigError(str(path), "caller_at_s",
                              "seconds after the agent starts (required with a caller)")
    return Scenario(path=path, name=raw.name, kind=raw.kind, agent_text=raw.agent_text,
                    caller_audio=caller_audio, caller_text=raw.caller_text,
                    caller_at_s=raw.caller_at_s, room=raw.room)


def load_suite(suite_dir: Path) -> tuple[list[Scenario], list[ConfigError]]:
    """Every `*.toml` directly in `suite_dir` (sorted): the valid scenarios and the errors."""
    if not suite_dir.is_dir():
        raise ConfigError(str(suite_dir), "<suite>", "a directory of *.toml scenario files")
    scenarios: list[Scenario] = []
    errors: list[ConfigError] = []
    seen: dict[str, Path] = {}
    paths = sorted(suite_dir.glob("*.toml"))
    if not paths:
        raise ConfigError(str(suite_dir), "<suite>", "at least one *.toml scenario file (found none)")
    for path in paths:
        try:
            scenario = load_scenario(path)
        except ConfigError as error:
            errors.append(error)
            continue
        if scenario.name in seen:
            errors.append(ConfigError(str(path), "name", f"a unique name ({scenario.name!r} is also "
                                                         f"used by {seen[scenario.name].name})"))
            continue
        seen[scenario.name] = path
        scenarios.append(scenario)
    return scenarios, errors
