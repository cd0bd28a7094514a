"""The config loader: defaults, the example file, and one-line rejection of bad input."""

from __future__ import annotations

import dataclasses
import tomllib
import typing
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from appliance.cli import main
from appliance.commands.config import example_text
from appliance.config import Config, load_config, parse_config, render_config
from appliance.errors import ConfigError

EXAMPLE = Path(__file__).resolve().parent.parent / "appliance.example.toml"

SECTIONS = {f.name: f.type for f in dataclasses.fields(Config)}
SECTION_CLASSES = {
    name: typing.get_type_hints(Config)[name] for name in SECTIONS
}
FIELDS = [
    (section, item.name, typing.get_type_hints(cls)[item.name])
    for section, cls in SECTION_CLASSES.items()
    for item in dataclasses.fields(cls)
]


def test_defaults_are_valid_and_round_trip_through_toml():
    rendered = render_config(Config())
    assert parse_config(tomllib.loads(rendered)) == Config()


def test_example_file_documents_every_key():
    table = tomllib.loads(EXAMPLE.read_text())
    text = EXAMPLE.read_text()
    for section, name, _ in FIELDS:
        assert f"{name} =" in text, f"{section}.{name} missing from {EXAMPLE.name}"
    assert set(table) <= set(SECTIONS)
    load_config(EXAMPLE)


def test_example_file_is_current():
    """Regenerate with `appliance config example > appliance.example.toml`."""
    assert EXAMPLE.read_text() == example_text()


def test_missing_file_is_one_line(tmp_path):
    with pytest.raises(ConfigError, match="does not exist"):
        load_config(tmp_path / "absent.toml")


def test_syntax_error_names_the_file(tmp_path):
    path = tmp_path / "broken.toml"
    path.write_text("[audio\nperiod_ms = 10\n")
    with pytest.raises(ConfigError) as caught:
        load_config(path)
    assert str(path) in str(caught.value)


key_names = st.from_regex(r"[a-z][a-z0-9_]{0,20}", fullmatch=True)


@settings(max_examples=60, deadline=None)
@given(section=st.sampled_from(sorted(SECTIONS)), key=key_names)
def test_unknown_key_is_rejected_by_name(section, key):
    known = {item.name for item in dataclasses.fields(SECTION_CLASSES[section])}
    if key in known:
        return
    with pytest.raises(ConfigError) as caught:
        parse_config({section: {key: 1}}, "kiosk.toml")
    assert caught.value.key == f"{section}.{key}"
    assert f"kiosk.toml: {section}.{key}:" in str(caught.value)


@settings(max_examples=30, deadline=None)
@given(key=key_names)
def test_unknown_section_is_rejected_by_name(key):
    if key in SECTIONS:
        return
    with pytest.raises(ConfigError) as caught:
        parse_config({key: {}}, "kiosk.toml")
    assert caught.value.key == key


def _accepts(tp: typing.Any, value: object) -> bool:
    """Whether `value` is a legitimate value of the field type `tp`."""
    args = typing.get_args(tp)
    if args and typing.get_origin(tp) is not tuple:
        return any(_accepts(arg, value) for arg in args)
    if tp is type(None):
        return value is None
    if tp is float:
        return isinstance(value, (int, float)) and not isinstance(value, bool)
    if tp is int:
        return isinstance(value, int) and not isinstance(value, bool)
    if typing.get_origin(tp) is tuple:
        return isinstance(value, list) and all(_accepts(args[0], item) for item in value)
    return isinstance(value, tp)


toml_values = st.one_of(
    st.booleans(), st.integers(-10**6, 10**6), st.floats(allow_nan=False, allow_infinity=False),
    st.text(max_size=8), st.lists(st.integers(0, 5), max_size=3),
    st.dictionaries(st.text(min_size=1, max_size=3), st.integers(), max_size=2),
)


@settings(max_examples=200, deadline=None)
@given(target=st.sampled_from(FIELDS), value=toml_values)
def test_wrong_type_is_rejected_by_name(target, value):
    section, name, tp = target
    if _accepts(tp, value):
        return
    with pytest.raises(ConfigError) as caught:
        parse_config({section: {name: value}}, "kiosk.toml")
    assert caught.value.key == f"{section}.{name}"
    assert "expected" in caught.value.expected


def test_out_of_range_value_names_bounds():
    with pytest.raises(ConfigError) as caught:
        parse_config({"audio": {"period_ms": 50}}, "kiosk.toml")
    assert caught.value.key == "audio.period_ms"
    assert "between 5 and 20" in str(caught.value)


def test_choice_outside_the_list_is_rejected():
    with pytest.raises(ConfigError, match="asr.backend: expected one of"):
        parse_config({"asr": {"backend": "whisper"}}, "kiosk.toml")


def test_int_is_accepted_for_float_fields():
    config = parse_config({"detector": {"duck_db": -12}})
    assert config.detector.duck_db == -12.0
    assert isinstance(config.detector.duck_db, float)


def test_config_check_exits_2_and_names_unknown_key(tmp_path, capsys):
    path = tmp_path / "appliance.toml"
    path.write_text("[audio]\nperiod_ms = 10\nperiod_msec = 20\n")
    assert main(["config", "check", str(path)]) == 2
    err = capsys.readouterr().err.strip()
    assert err.count("\n") == 0
    assert "audio.period_msec" in err and str(path) in err


def test_config_check_prints_effective_configuration(tmp_path, capsys):
    path = tmp_path / "appliance.toml"
    path.write_text("[audio]\nperiod_ms = 20\n")
    assert main(["config", "check", str(path)]) == 0
    out = capsys.readouterr().out
    assert "period_ms = 20" in out
    assert tomllib.loads(out)["audio"]["period_ms"] == 20


def test_a_removed_key_in_an_old_config_is_one_line_saying_so(tmp_path, capsys):
    path = tmp_path / "appliance.toml"
    path.write_text("[gpio]\nbutton_pin = 17\nhold_ms = 400\n")
    assert main(["config", "check", str(path)]) == 2
    err = capsys.readouterr().err.strip()
    assert err.count("\n") == 0
    assert f"{path}: gpio.hold_ms: removed" in err and "delete the key" in err
