"""The events file on disk: appended (never truncated), rotated, and deleted on schedule.

A start that fails, a crash or a restart loop must never cost the log of the
run before it, so the file is only ever opened for appending. It is created
mode 0600 (only the kiosk's user reads what the kiosk heard).

Rotation keeps one UTC day per file: before a line is written, a file last
written on an earlier day, or one that would grow past a quarter of the size
budget, is renamed to `NAME.YYYY-MM-DD` (`.1`, `.2` … when one day needs
several). Rotated files older than `retention_days` are deleted, and the
oldest go first while all of them together exceed `max_events_mb`: at each
rotation, when the file is opened, and hourly (`sweep`, called by EventLog's
sweeper thread). So no line lives longer than retention_days + 1 days.

Disk trouble degrades, never stops: a failed write, rotation or deletion is
logged once as a warning and the kiosk carries on (a line that cannot be
written is lost; the kiosk keeps talking).
"""

from __future__ import annotations

import logging
import os
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

from appliance.config import PrivacySettings

log = logging.getLogger(__name__)

DAY_S = 86400.0
FILE_MODE = 0o600
ROTATE_FRACTION = 4
"""A file rotates at 1/ROTATE_FRACTION of the budget, so pruning frees space in steps."""


def _day(timestamp: float) -> str:
    return datetime.fromtimestamp(timestamp, UTC).strftime("%Y-%m-%d")


def rotated_files(path: Path) -> list[Path]:
    """The rotations of `path` (`NAME.<date>[.N]`), oldest first."""
    if not path.parent.is_dir():
        return []
    found = [p for p in path.parent.glob(f"{path.name}.*") if p.is_file()]
    return sorted(found, key=lambda p: (p.stat().st_mtime, p.name))


class RotatingEventFile:
    """Appends lines to `path`, rotating by day and size, pruning by age and total size."""

    def __init__(self, path: Path, privacy: PrivacySettings,
                 clock: Callable[[], float] = time.time) -> None:
        self.path = path
        self.max_bytes = int(privacy.max_events_mb * 1e6)
        self.retention_s = privacy.retention_days * DAY_S
        self._clock = clock
        self._fd: int | None = None
        self._size = 0
        self._day = ""
        self._failing: set[str] = set()
        path.parent.mkdir(parents=True, exist_ok=True)
        self._open()
        self.sweep()

    def _open(self) -> None:
        self._fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT | os.O_CLOEXEC, FILE_MODE)
        stat = os.fstat(self._fd)
        self._size = stat.st_size
        self._day = _day(stat.st_mtime) if stat.st_size else _day(self._clock())

    def write(self, line: str) -> None:
        """Append one line (with its newline), rotating first when the day or size says so."""
        data = line.encode("utf-8")
        today = _day(self._clock())
        if self._size and (today != self._day or self._size + len(data) > self.max_bytes // ROTATE_FRACTION):
            self._rotate()
        if self._fd is None:
            self._reopen()
            if self._fd is None:
                return
        try:
            os.write(self._fd, data)
        except OSError as error:
            self._warn("write", error)
            return
        self._failing.discard("write")
        self._size += len(data)
        self._day = today

    def _rotate(self) -> None:
        """Rename the full or stale file aside and start a new one.

        If the rename fails (the file was deleted, the disk is read-only) the
        path is opened again, so lines keep landing in the named file.
        """
        target = self.path.with_name(f"{self.path.name}.{self._day}")
        number = 0
        while target.exists():
            number += 1
            target = self.path.with_name(f"{self.path.name}.{self._day}.{number}")
        try:
            os.rename(self.path, target)
        except OSError as error:
            self._warn("rotate", error)
        else:
            self._failing.discard("rotate")
        self._reopen()
        self.sweep()

    def _reopen(self) -> None:
        self.close()
        try:
            self._open()
        except OSError as error:
            self._warn("open", error)
        else:
            self._failing.discard("open")

    def sweep(self) -> None:
        """Delete rotated files past retention, then the oldest while over the size budget."""
        now = self._clock()
        try:
            old = rotated_files(self.path)
            # room for the live file to reach its rotation size: the total never passes the budget
            live = max(self._size, self.max_bytes // ROTATE_FRACTION)
            total = live + sum(p.stat().st_size for p in old)
            for rotated in old:
                stat = rotated.stat()
                if now - stat.st_mtime > self.retention_s or total > self.max_bytes:
                    rotated.unlink()
                    total -= stat.st_size
        except OSError as error:
            self._warn("delete", error)
            return
        self._failing.discard("delete")

    @property
    def failing(self) -> bool:
        """True while lines do not reach the disk (full or failing); the journal still gets them."""
        return "write" in self._failing

    def _warn(self, what: str, error: OSError) -> None:
        if what not in self._failing:
            self._failing.add(what)
            log.warning("events file %s: %s failed (%s); the kiosk carries on", self.path, what,
                        error.strerror or error)

    def close(self) -> None:
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None
