"""Every hardware/ folder is complete and self-consistent, and its config passes the doctor.

The configs are loaded with the real validating loader; the doctor runs on a
fake /proc/asound that holds the folder's card, as the kernel would list it.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from appliance.config import load_config
from appliance.device import soundcards
from appliance.runtime import doctor

HARDWARE = Path(__file__).resolve().parents[2] / "hardware"
SETUPS = sorted(path for path in HARDWARE.iterdir() if path.is_dir())
FILES = ("README.md", "config.txt", "asound.conf", "appliance.toml")


def test_the_three_supported_setups_are_there_and_listed():
    names = {setup.name for setup in SETUPS}
    assert {"respeaker-2mic-wm8960", "inmp441-max98357a", "usb-speakerphone"} <= names
    overview = (HARDWARE / "README.md").read_text()
    assert all(f"({name}/README.md)" in overview for name in names)
    assert "## Why the microphone and the speaker must be on one sound card" in overview


@pytest.mark.parametrize("setup", SETUPS, ids=lambda path: path.name)
def test_setup_folder_is_complete_and_consistent(setup: Path):
    assert all((setup / name).is_file() for name in FILES)
    config = load_config(setup / "appliance.toml")
    capture = soundcards.named_card(config.audio.capture_device)
    assert capture is not None
    assert capture == soundcards.named_card(config.audio.playback_device), "one card, one clock"
    assert f"card {capture}" in (setup / "asound.conf").read_text()
    readme = (setup / "README.md").read_text()
    for heading in ("## Wiring", "## What `appliance calibrate` should roughly report"):
        assert heading in readme
    for key in ("echo_delay_ms", "echo_gain_db", "cut_latency_ms"):
        assert key in readme
    pins = [pin for pin in (config.gpio.button_pin, config.gpio.led_pin, config.gpio.amp_enable_pin)
            if pin is not None]
    assert len(pins) == len(set(pins)), "a pin used twice"
    wiring_pins = {int(n) for n in re.findall(r"^\|[^|]+\|[^|]+\| (\d+) \|", readme, re.M)}
    assert set(pins) <= wiring_pins, "every configured pin is in the wiring table"


@pytest.mark.parametrize("setup", SETUPS, ids=lambda path: path.name)
def test_setup_config_passes_the_doctor_on_a_fake_proc_with_its_card(setup: Path, tmp_path: Path):
    config = load_config(setup / "appliance.toml")
    card_id = soundcards.named_card(config.audio.capture_device)
    (tmp_path / "card0/pcm0p").mkdir(parents=True)
    (tmp_path / "card0/pcm0c").mkdir(parents=True)
    (tmp_path / "cards").write_text(f" 0 [{card_id:15}]: driver - {setup.name}\n")
    findings = list(doctor.check_sound(config, tmp_path))
    assert not doctor.cannot_run(findings), findings
