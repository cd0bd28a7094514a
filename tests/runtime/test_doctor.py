"""`appliance doctor` on fake /proc/asound, /sys and /dev trees (no sound card or GPIO here).

The trees copy what the kernel publishes for the supported setups; the
parsing, the checks and the CLI are the real ones, and the model check runs
against the real models directory.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

from appliance import cli
from appliance.config import Config, GpioSettings
from appliance.device import soundcards
from appliance.runtime import doctor

JABRA_STREAM = """\
Jabra SPEAK 510 USB at usb-0000:01:00.0-1.3, full speed : USB Audio

Playback:
  Status: Stop
  Interface 1
    Altset 1
    Format: S16_LE
    Channels: 2
    Endpoint: 0x03 (3 OUT) (ADAPTIVE)
    Rates: 8000, 16000, 44100, 48000

Capture:
  Status: Stop
  Interface 2
    Altset 1
    Format: S16_LE
    Channels: 1
    Endpoint: 0x83 (3 IN) (ADAPTIVE)
    Rates: 16000, 48000
"""


def fake_proc(root: Path, cards: list[tuple[int, str, str, str]],
              streams: dict[int, str] | None = None) -> Path:
    """A /proc/asound with `cards` as (index, id, name, directions "pc")."""
    root.mkdir(parents=True, exist_ok=True)
    lines = []
    for index, card_id, name, directions in cards:
        lines += [f"{index:2} [{card_id:15}]: {name[:15]} - {name}", f"                      {name}"]
        for direction in directions:
            (root / f"card{index}" / f"pcm0{direction}").mkdir(parents=True)
        if index in (streams or {}):
            (root / f"card{index}" / "stream0").write_text(streams[index])
    (root / "cards").write_text("\n".join(lines) + "\n" if lines else "--- no soundcards ---\n")
    return root


def sound(config: Config, proc: Path) -> list[doctor.Finding]:
    return list(doctor.check_sound(config, proc))


def audio(**values) -> Config:
    return dataclasses.replace(Config(), audio=dataclasses.replace(Config().audio, **values))


def test_fake_proc_no_card_is_one_fail_line(tmp_path: Path):
    findings = sound(Config(), fake_proc(tmp_path, []))
    assert [f.level for f in findings] == [doctor.FAIL]
    assert "no sound card" in findings[0].message
    assert findings[0].fix


def test_fake_proc_missing_entirely_counts_as_no_card(tmp_path: Path):
    assert soundcards.list_cards(tmp_path / "absent") == []
    assert sound(Config(), tmp_path / "absent")[0].level == doctor.FAIL


def test_fake_proc_usb_speakerphone_formats_and_rates_are_read(tmp_path: Path):
    proc = fake_proc(tmp_path, [(0, "vc4hdmi0", "vc4-hdmi-0", "p"), (1, "USB", "Jabra SPEAK 510 USB", "pc")],
                     {1: JABRA_STREAM})
    cards = soundcards.list_cards(proc)
    usb = soundcards.find_card("USB", cards)
    assert usb.is_duplex and not cards[0].is_duplex
    assert usb.capture.formats == ("S16_LE",)
    assert usb.capture.rates_hz == (16000, 48000)
    assert usb.playback.rates_hz == (8000, 16000, 44100, 48000)
    findings = sound(audio(capture_device="plughw:CARD=USB", playback_device="plughw:CARD=USB"), proc)
    assert not doctor.cannot_run(findings)
    assert any("rates both ways 16000 48000 Hz" in f.message for f in findings)


def test_fake_proc_format_the_card_does_not_offer_fails_with_the_choices(tmp_path: Path):
    proc = fake_proc(tmp_path, [(1, "USB", "Jabra SPEAK 510 USB", "pc")], {1: JABRA_STREAM})
    config = audio(capture_device="hw:1", playback_device="hw:1", card_format="S32_LE")
    failures = [f for f in sound(config, proc) if f.level == doctor.FAIL]
    assert failures and "S32_LE" in failures[0].message
    assert "S16_LE" in failures[0].fix


def test_fake_proc_mic_and_speaker_on_two_cards_fail_for_two_clocks(tmp_path: Path):
    proc = fake_proc(tmp_path, [(0, "Headphones", "bcm2835 Headphones", "p"),
                                (1, "Device", "USB PnP Sound Device", "c")])
    findings = sound(audio(capture_device="plughw:CARD=Device", playback_device="plughw:CARD=Headphones"),
                     proc)
    messages = " ".join(f.message for f in findings if f.level == doctor.FAIL)
    assert "no card has both" in messages
    assert "different cards" in messages
    assert all("clock" in f.fix for f in findings if f.level == doctor.FAIL)


def test_fake_proc_configured_card_that_is_absent_names_the_cards_present(tmp_path: Path):
    proc = fake_proc(tmp_path, [(0, "seeed2micvoicec", "seeed-2mic-voicecard", "pc")])
    findings = sound(audio(capture_device="plughw:CARD=wm8960soundcard",
                           playback_device="plughw:CARD=seeed2micvoicec"), proc)
    failure = next(f for f in findings if f.level == doctor.FAIL)
    assert "wm8960soundcard" in failure.message and "seeed2micvoicec" in failure.fix


def test_fake_sys_governor_and_temperature(tmp_path: Path):
    for cpu in range(4):
        governor = tmp_path / f"devices/system/cpu/cpu{cpu}/cpufreq/scaling_governor"
        governor.parent.mkdir(parents=True)
        governor.write_text("ondemand\n")
    zone = tmp_path / "class/thermal/thermal_zone0"
    zone.mkdir(parents=True)
    (zone / "temp").write_text("83500\n")
    findings = list(doctor.check_cpu(tmp_path))
    assert [f.level for f in findings] == [doctor.WARN, doctor.WARN]
    assert "ondemand" in findings[0].message and "performance" in findings[0].fix
    assert "84 °C" in findings[1].message


def test_fake_dev_gpio_enabled_without_chip_cannot_run(tmp_path: Path):
    config = dataclasses.replace(Config(), gpio=GpioSettings(enabled=True, button_pin=17))
    assert [f.level for f in doctor.check_gpio(config, tmp_path)] == [doctor.FAIL]
    (tmp_path / "gpiochip0").touch(mode=0o660)
    findings = list(doctor.check_gpio(config, tmp_path))
    assert not doctor.cannot_run(findings)
    assert "button_pin" in findings[-1].message


def test_models_are_verified_in_the_real_models_directory():
    findings = list(doctor.check_models(Config()))
    assert not doctor.cannot_run(findings), findings
    assert findings[-1].level == doctor.OK and "verified" in findings[-1].message


def test_models_check_fails_on_an_empty_directory(tmp_path: Path):
    config = dataclasses.replace(Config(), service=dataclasses.replace(Config().service,
                                                                        models_dir=str(tmp_path)))
    failures = [f for f in doctor.check_models(config) if f.level == doctor.FAIL]
    assert failures and all("appliance models install" in f.fix for f in failures)


def test_cli_doctor_without_sound_card_says_so_in_one_line_fake_proc(tmp_path, monkeypatch, capsys):
    monkeypatch.setattr(soundcards, "PROC_ASOUND", fake_proc(tmp_path, []))
    assert cli.main(["doctor"]) == 1
    out = capsys.readouterr()
    sound_lines = [line for line in out.out.splitlines() if line.startswith("sound")]
    assert sound_lines == ["sound    FAIL  no sound card: the kernel lists none in /proc/asound/cards"]
    assert "Traceback" not in out.out + out.err


@pytest.mark.parametrize("pcm, card", [("plughw:CARD=seeed2micvoicec,DEV=0", "seeed2micvoicec"),
                                       ("hw:1,0", "1"), ("default", None), ("pulse", None)])
def test_pcm_names_that_point_at_a_card(pcm, card):
    assert soundcards.named_card(pcm) == card
