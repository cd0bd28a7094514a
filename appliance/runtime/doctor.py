"""`appliance doctor`'s checks: can this machine run the kiosk, and if not, what to do.

Each check returns findings; a finding that is not ok carries one actionable
fix. `FAIL` means the kiosk cannot run (no usable sound card, a required model
missing, GPIO configured but absent); `warn` means it runs worse than it
should. Every check reads files or runs a read-only command, so the doctor is
safe to run next to a live kiosk and never raises: a check that cannot look
says so as a finding.
"""

from __future__ import annotations

import glob
import os
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from appliance import models
from appliance.agent.redact import keeps_words
from appliance.config import Config
from appliance.device import soundcards
from appliance.errors import ApplianceError
from appliance.runtime import privacy

OK, INFO, WARN, FAIL = "ok", "info", "warn", "FAIL"
HARDWARE_README = "hardware/README.md"
HOT_C = 80.0  # the Pi firmware starts throttling at 80 °C (85 °C hard limit)
UNIT = "appliance"


@dataclass(frozen=True)
class Finding:
    check: str
    level: str
    message: str
    fix: str = ""


def run_checks(config: Config, proc_asound: Path | None = None,
               sys_root: Path = Path("/sys"), dev: Path = Path("/dev")) -> list[Finding]:
    """Every finding, in the order a person fixes them: sound, models, CPU, GPIO, service;
    then what the kiosk keeps about its guests."""
    return [
        *check_sound(config, proc_asound or soundcards.PROC_ASOUND),
        *check_models(config),
        *check_cpu(sys_root),
        *check_gpio(config, dev),
        *check_service(),
        *check_privacy(config),
    ]


def cannot_run(findings: list[Finding]) -> bool:
    return any(finding.level == FAIL for finding in findings)


# --- sound ------------------------------------------------------------------


def check_sound(config: Config, proc_asound: Path) -> Iterator[Finding]:
    cards = soundcards.list_cards(proc_asound)
    if config.audio.backend == "sim":
        yield Finding("sound", INFO, "audio.backend = \"sim\": the simulated room, no card needed")
        return
    if not cards:
        yield Finding("sound", FAIL, "no sound card: the kernel lists none in /proc/asound/cards",
                      f"enable the card's overlay in config.txt or plug in the USB speakerphone, "
                      f"then reboot (see {HARDWARE_README})")
        return
    for card in cards:
        yield _describe(card)
    duplex = [card for card in cards if card.is_duplex]
    if not duplex:
        yield Finding("sound", FAIL, "no card has both a microphone and a speaker",
                      f"use one card for both: two cards run on two clocks and the echo canceller "
                      f"cannot follow their drift (see {HARDWARE_README})")
    yield from _check_configured(config, cards)


def _describe(card: soundcards.SoundCard) -> Finding:
    sides = [name for name, side in (("capture", card.capture), ("playback", card.playback))
             if side.devices]
    formats = sorted(set(card.capture.formats) | set(card.playback.formats))
    offered = f", formats {' '.join(formats)}" if formats else ""
    rates = sorted(set(card.capture.rates_hz) & set(card.playback.rates_hz))
    shared = f", rates both ways {' '.join(map(str, rates))} Hz" if rates else ""
    level = OK if card.is_duplex else INFO
    return Finding("sound", level, f"card {card.index} [{card.id}] {card.name}: "
                   f"{' + '.join(sides) or 'no PCM'}{offered}{shared}")


def _check_configured(config: Config, cards: list[soundcards.SoundCard]) -> Iterator[Finding]:
    audio = config.audio
    named = {role: soundcards.named_card(pcm) for role, pcm in
             (("capture_device", audio.capture_device), ("playback_device", audio.playback_device))}
    for role, name in named.items():
        pcm = getattr(audio, role)
        if name is None:
            yield Finding("sound", INFO, f"audio.{role} = \"{pcm}\" is resolved by the ALSA config",
                          "" if Path("/etc/asound.conf").exists() else
                          f"install your setup's asound.conf as /etc/asound.conf ({HARDWARE_README})")
            continue
        card = soundcards.find_card(name, cards)
        if card is None:
            yield Finding("sound", FAIL, f"audio.{role} = \"{pcm}\": no card \"{name}\"",
                          f"set it to one of: {', '.join(c.id for c in cards)}")
            continue
        side = card.capture if role == "capture_device" else card.playback
        if side.formats and audio.card_format not in side.formats:
            yield Finding("sound", FAIL, f"card {card.id} does not offer audio.card_format = "
                          f"\"{audio.card_format}\" for {role.split('_')[0]}",
                          f"set audio.card_format to one of {', '.join(side.formats)}")
    if None not in named.values() and len(set(named.values())) > 1:
        yield Finding("sound", FAIL, "capture and playback are on different cards "
                      f"({named['capture_device']}, {named['playback_device']})",
                      f"use one card for both: two clocks defeat echo cancellation ({HARDWARE_README})")


# --- models -----------------------------------------------------------------


def check_models(config: Config) -> Iterator[Finding]:
    models_dir = config.models_dir()
    try:
        entries = [entry for entry in models.load_manifest() if not entry.for_tests]
    except ApplianceError as error:
        yield Finding("models", FAIL, str(error), "reinstall the appliance package")
        return
    good, failed = 0, 0
    for entry in entries:
        problem = models.check(entry, models_dir)
        if problem is None:
            good += 1
        elif entry.optional and problem == "missing":
            yield Finding("models", INFO, f"{entry.file} not installed (optional: {entry.role})")
        else:
            failed += 1
            yield Finding("models", FAIL, f"{models_dir / entry.file}: {problem}",
                          f"appliance models install --dir {models_dir} (needs the network once)")
    for finding in _check_configured_models(config, {entry.file for entry in entries}):
        failed += 1
        yield finding
    install = f"appliance models install --dir {models_dir} (needs the network once)"
    yield Finding("models", FAIL if failed else OK,
                  f"{good} of {len(entries)} models verified in {models_dir}"
                  + (f"; {failed} problem(s) above" if failed else ""), install if failed else "")


def _check_configured_models(config: Config, pinned: set[str]) -> Iterator[Finding]:
    """The models the config names that the manifest does not pin (a custom LLM, voice or
    wake word); a pinned one was just verified above."""
    from appliance.agent.llm import resolve_model_path
    from appliance.speech.tts import voice_model
    from appliance.speech.wake import wake_model_file

    models_dir = config.models_dir()
    lookups = []
    if config.llm.model not in pinned:
        lookups.append(("llm.model", lambda: resolve_model_path(config.llm, models_dir)))
    if f"{config.tts.voice}.onnx" not in pinned:
        lookups.append(("tts.voice", lambda: (voice_model(config.tts.voice, models_dir), models.require(
            f"{config.tts.voice}.onnx.json", models_dir))))
    if config.wake.enabled:
        lookups.append(("wake.model", lambda: models.require(
            wake_model_file(config.wake.model, models_dir), models_dir)))
    for key, lookup in lookups:
        try:
            lookup()
        except ApplianceError as error:
            yield Finding("models", FAIL, f"{key}: {error}",
                          f"appliance models install --dir {models_dir} (needs the network once), "
                          f"or point {key} at an installed model")


# --- CPU --------------------------------------------------------------------


def check_cpu(sys_root: Path) -> Iterator[Finding]:
    governors = {}
    for path in sorted(glob.glob(str(sys_root / "devices/system/cpu/cpu[0-9]*/cpufreq/scaling_governor"))):
        governors[Path(path).parts[-3]] = Path(path).read_text().strip()
    if not governors:
        yield Finding("cpu", INFO, "no CPU frequency scaling in /sys (a virtual machine?)")
    elif set(governors.values()) != {"performance"}:
        slow = sorted({g for g in governors.values() if g != "performance"})
        yield Finding("cpu", WARN, f"CPU governor {', '.join(slow)}: the 10 ms audio loop competes "
                      "with frequency ramps and may underrun",
                      "echo performance | sudo tee /sys/devices/system/cpu/cpu*/cpufreq/scaling_governor"
                      " (persist it with cpufrequtils or a tmpfiles.d line)")
    else:
        yield Finding("cpu", OK, f"governor performance on {len(governors)} CPUs")
    yield from _check_temperature(sys_root)


def _check_temperature(sys_root: Path) -> Iterator[Finding]:
    readings = []
    for zone in sorted(sys_root.glob("class/thermal/thermal_zone*")):
        try:
            readings.append(int((zone / "temp").read_text()) / 1000)
        except (OSError, ValueError):
            continue
    if not readings:
        yield Finding("cpu", INFO, "no temperature sensor in /sys/class/thermal")
    elif max(readings) >= HOT_C:
        yield Finding("cpu", WARN, f"CPU at {max(readings):.0f} °C: the firmware throttles the clock",
                      "fit a heatsink or the active cooler and give the case air")
    else:
        yield Finding("cpu", OK, f"temperature {max(readings):.0f} °C")


# --- GPIO -------------------------------------------------------------------


def check_gpio(config: Config, dev: Path) -> Iterator[Finding]:
    gpio = config.gpio
    pins = [name for name in ("button_pin", "led_pin", "amp_enable_pin") if getattr(gpio, name) is not None]
    if not gpio.enabled:
        yield Finding("gpio", INFO, "GPIO disabled in the config (no button, LED or amplifier pin)")
        return
    chips = sorted(dev.glob("gpiochip*"))
    if not chips:
        yield Finding("gpio", FAIL, f"gpio.enabled but no {dev}/gpiochip* on this machine",
                      "set gpio.enabled = false, or run on the Pi the pins are wired to")
        return
    unusable = [chip.name for chip in chips if not os.access(chip, os.R_OK | os.W_OK)]
    if unusable:
        yield Finding("gpio", WARN, f"this user cannot open {', '.join(unusable)}",
                      "the service user is in the gpio group; for a shell: sudo usermod -aG gpio $USER")
    if not pins:
        yield Finding("gpio", WARN, "gpio.enabled but no pin configured",
                      "set gpio.button_pin / led_pin / amp_enable_pin (see your hardware/ folder)")
    else:
        yield Finding("gpio", OK, f"{len(chips)} GPIO chip(s); pins {', '.join(pins)} configured")


# --- systemd ----------------------------------------------------------------


def _command(*argv: str) -> tuple[int, str]:
    try:
        done = subprocess.run(argv, capture_output=True, text=True, timeout=10)
    except (OSError, subprocess.TimeoutExpired) as error:
        return 127, str(error)
    return done.returncode, (done.stdout + done.stderr).strip()


def check_service() -> Iterator[Finding]:
    code, state = _command("systemctl", "is-active", f"{UNIT}.service")
    if code == 127 or "not been booted with systemd" in state or "Failed to connect" in state:
        yield Finding("service", INFO, "no systemd here: the service is not checked")
        return
    if state == "active":
        yield Finding("service", OK, f"{UNIT}.service is active")
        return
    _, enabled = _command("systemctl", "is-enabled", f"{UNIT}.service")
    if enabled in ("not-found", "") or "No such file" in enabled:
        yield Finding("service", WARN, f"{UNIT}.service is not installed",
                      "install it as described in systemd/README.md")
        return
    _, journal = _command("journalctl", "-u", f"{UNIT}.service", "-n", "20", "--no-pager", "-o", "cat")
    tail = " | ".join(journal.splitlines()[-3:]) or "journal empty"
    yield Finding("service", WARN, f"{UNIT}.service is {state} ({enabled}); last log: {tail}",
                  f"journalctl -u {UNIT} -n 20 --no-pager shows why; sudo systemctl restart {UNIT}")


# --- privacy ----------------------------------------------------------------


def check_privacy(config: Config, journald_conf: Path = privacy.JOURNALD_CONF,
                  persistent_journal: Path = privacy.PERSISTENT_JOURNAL) -> Iterator[Finding]:
    """One line: words kept or not, where, for how long, and the journal's persistence."""
    events_path = config.events_path()
    storage = privacy.journal_storage(journald_conf, persistent_journal)
    message = f"{privacy.summary(config, events_path)}; {privacy.journal_note(config, storage)}"
    if keeps_words(config.privacy):
        yield Finding("privacy", WARN, message, "set privacy.log_transcripts = false and "
                      "privacy.log_replies = false unless you need the words (docs/privacy.md)")
    else:
        yield Finding("privacy", OK, message)
