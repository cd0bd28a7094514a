"""The public scenario format: valid files load, every mistake names the file and the key."""

from __future__ import annotations

from pathlib import Path

import pytest

from appliance.bench.scenario import load_scenario, load_suite
from appliance.errors import ConfigError

SUITE = Path(__file__).resolve().parent / "suite"
VALID = """name = "x"
kind = "interrupt"
agent_text = "Hello there."
caller_audio = "a.wav"
caller_at_s = 1.5

[room]
echo_gain_db = 3
"""


@pytest.fixture
def suite(tmp_path: Path) -> Path:
    (tmp_path / "a.wav").write_bytes((SUITE / "audio" / "okay.wav").read_bytes())
    return tmp_path


def test_project_suite_covers_the_required_ranges():
    scenarios, errors = load_suite(SUITE)
    assert errors == []
    assert len(scenarios) >= 30
    assert {s.kind for s in scenarios} == {"interrupt", "backchannel", "noise", "echo-only"}
    rooms = [s.room for s in scenarios]
    assert min(r.echo_gain_db for r in rooms) <= -10 and max(r.echo_gain_db for r in rooms) >= 10
    assert min(r.echo_delay_ms for r in rooms) <= 2 and max(r.echo_delay_ms for r in rooms) >= 40
    assert min(r.rt60_s for r in rooms) == 0 and max(r.rt60_s for r in rooms) >= 0.6
    assert any(r.speaker_clip > 0 for r in rooms)
    assert {r.noise for r in rooms} >= {"none", "white", "pink"}
    assert max(r.noise_dbfs for r in rooms if r.noise != "none") >= -45
    assert min(r.caller_gain_db - r.echo_gain_db for r in rooms) <= -15
    assert min(s.caller_at_s for s in scenarios if s.kind == "interrupt") <= 1.0


def test_held_back_half_shares_no_voice_or_room_with_the_tuning_half():
    tune, tune_errors = load_suite(SUITE)
    held, held_errors = load_suite(SUITE.parent / "held-back")
    assert tune_errors == held_errors == []
    assert len(tune) + len(held) >= 60 and len(held) >= 25
    assert not {s.caller_audio.name for s in tune if s.caller_audio} & {
        s.caller_audio.name for s in held if s.caller_audio}
    assert not {s.agent_text for s in tune} & {s.agent_text for s in held}
    shoebox = [s.room for s in held if s.room.model == "shoebox"]
    assert shoebox and not {r.room_dim_m for r in shoebox} & {
        s.room.room_dim_m for s in tune if s.room.model == "shoebox"}
    for half in (tune, held):
        rooms = [s.room for s in half]
        assert min(r.caller_gain_db - r.echo_gain_db for r in rooms) <= -12
        assert any(r.speaker_clip > 0 and r.speaker_asymmetry > 0 for r in rooms)
        assert any(r.amp_compression > 1 for r in rooms)
        assert sum(s.kind == "echo-only" and s.room.rt60_s >= 0.7 for s in half) >= 1


def test_valid_scenario_loads(suite: Path):
    path = suite / "x.toml"
    path.write_text(VALID)
    scenario = load_scenario(path)
    assert scenario.caller_audio == (suite / "a.wav").resolve()
    assert scenario.room.echo_gain_db == 3 and scenario.caller_at_s == 1.5


@pytest.mark.parametrize("text,key", [
    (VALID.replace('kind = "interrupt"', 'kind = "shout"'), "kind"),
    (VALID.replace("echo_gain_db = 3", "echo_gain = 3"), "room.echo_gain"),
    (VALID.replace('caller_audio = "a.wav"', 'caller_audio = "missing.wav"'), "caller_audio"),
    (VALID.replace('agent_text = "Hello there."\n', ""), "agent_text"),
    (VALID.replace("caller_at_s = 1.5", 'caller_at_s = "soon"'), "caller_at_s"),
    (VALID.replace("caller_at_s = 1.5\n", ""), "caller_at_s"),
    (VALID.replace('kind = "interrupt"', 'kind = "echo-only"'), "caller_audio"),
    (VALID + "surprise = 1\n", "room.surprise"),
    ("name = [", "<syntax>"),
])
def test_malformed_scenario_names_file_and_key(suite: Path, text: str, key: str):
    path = suite / "bad.toml"
    path.write_text(text)
    with pytest.raises(ConfigError) as error:
        load_scenario(path)
    assert error.value.key == key and error.value.path == str(path)
    assert str(error.value).startswith(f"{path}: {key}: ")


def test_suite_reports_bad_files_and_keeps_the_rest(suite: Path):
    (suite / "good.toml").write_text(VALID)
    (suite / "bad.toml").write_text(VALID.replace('kind = "interrupt"', 'kind = "shout"'))
    (suite / "twin.toml").write_text(VALID)
    (suite / "nested").mkdir()
    (suite / "nested" / "ignored.toml").write_text("broken = [")
    scenarios, errors = load_suite(suite)
    assert [s.path.name for s in scenarios] == ["good.toml"]
    assert sorted((Path(e.path).name, e.key) for e in errors) == [("bad.toml", "kind"),
                                                                  ("twin.toml", "name")]
