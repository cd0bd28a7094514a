"""What the kiosk keeps on this machine, said in one line, and how to erase it.

`summary()` is the line `appliance run` logs at start-up and `appliance doctor`
prints; `journal_storage()` reads journald's own configuration to say whether
the journal survives a reboot; `forget()` deletes the events files and, when
asked, vacuums the journal. docs/privacy.md explains each place in full.
"""

from __future__ import annotations

import subprocess
from collections.abc import Iterator
from pathlib import Path

from appliance.agent.eventfile import rotated_files
from appliance.agent.redact import keeps_words
from appliance.config import Config
from appliance.errors import ApplianceError

JOURNALD_CONF = Path("/etc/systemd/journald.conf")
PERSISTENT_JOURNAL = Path("/var/log/journal")


def journal_storage(conf: Path = JOURNALD_CONF, persistent_dir: Path = PERSISTENT_JOURNAL) -> str:
    """"persistent", "volatile" or "none": journald's Storage= as it applies here.

    The last Storage= wins, drop-ins (journald.conf.d/*.conf, in name order)
    after the main file; `auto` (the default) is persistent exactly when
    /var/log/journal exists, as it does on Raspberry Pi OS.
    """
    storage = "auto"
    for path in [conf, *sorted(conf.with_name(conf.name + ".d").glob("*.conf"))]:
        try:
            lines = path.read_text(errors="replace").splitlines()
        except OSError:
            continue
        for line in lines:
            key, _, value = line.strip().partition("=")
            if key.strip() == "Storage" and value.strip():
                storage = value.strip().lower()
    if storage == "auto":
        return "persistent" if persistent_dir.is_dir() else "volatile"
    return storage


def _words(config: Config) -> str:
    privacy = config.privacy
    said = "guest words logged" if privacy.log_transcripts else "guest words not logged"
    replies = "replies logged" if privacy.log_replies else "replies not logged"
    return f"{said}, {replies}"


def summary(config: Config, events_path: Path | None) -> str:
    """One line: are words kept, where the events go and for how long."""
    privacy = config.privacy
    where = (f"events in {events_path} (rotated daily, kept {privacy.retention_days} days, "
             f"at most {privacy.max_events_mb:g} MB)" if events_path else "no events file")
    return f"{_words(config)}; {where}; no audio recorded"


def journal_note(config: Config, storage: str) -> str:
    """What the journal holds of the guests, given journald's storage."""
    if not keeps_words(config.privacy):
        return f"journal ({storage}) gets events without words"
    kept = "until journald's own limits delete them" if storage == "persistent" else "until reboot"
    return f"journal ({storage}) gets the same words, kept {kept}"


def stored_files(events_path: Path | None) -> Iterator[Path]:
    """The events file and its rotations: every file the kiosk writes about its guests."""
    if events_path is None:
        return
    if events_path.is_file():
        yield events_path
    yield from rotated_files(events_path)


def forget(events_path: Path | None, journal: bool = False,
           journal_dir: Path | None = None) -> list[str]:
    """Delete every events file; with `journal`, rotate and vacuum the journal too.

    journald cannot delete one service's entries, so vacuuming removes every
    archived journal file on the machine (root only): that is why it is asked
    for separately. `journal_dir` vacuums that directory instead (tests).
    """
    done = []
    for path in list(stored_files(events_path)):
        try:
            path.unlink()
        except OSError as error:
            raise ApplianceError(f"{path}: cannot delete ({error.strerror or error})") from None
        done.append(f"deleted {path}")
    if not done:
        done.append(f"no events files at {events_path}" if events_path else "no events file configured")
    if journal:
        commands = ([["journalctl", f"--directory={journal_dir}", "--vacuum-time=1s"]] if journal_dir
                    else [["journalctl", "--rotate"], ["journalctl", "--vacuum-time=1s"]])
        for command in commands:
            result = subprocess.run(command, capture_output=True, text=True, timeout=120)
            if result.returncode != 0:
                reason = (result.stderr.strip().splitlines() or ["no output"])[-1]
                raise ApplianceError(f"{' '.join(command)} failed ({reason}); run it as root")
        done.append("vacuumed the journal's archived files" + (f" in {journal_dir}" if journal_dir else ""))
    return done
