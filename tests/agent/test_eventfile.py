"""The events file's rotation and retention, on real files with a clock the test sets."""

from __future__ import annotations

import logging
import os

from appliance.agent.eventfile import DAY_S, RotatingEventFile, rotated_files
from appliance.config import PrivacySettings

NOON = 1_764_504_000.0   # 2025-11-30 12:00 UTC
LINE = "x" * 99 + "\n"   # 100 bytes


class Clock:
    def __init__(self, now: float) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


def test_a_file_rotates_at_a_quarter_of_the_budget_and_the_total_stays_under_it(tmp_path):
    path = tmp_path / "events.jsonl"
    budget_mb = 0.1                                   # 100 kB: rotation at 25 kB
    events = RotatingEventFile(path, PrivacySettings(max_events_mb=budget_mb), Clock(NOON))
    for _ in range(2000):                             # 200 kB written in all
        events.write(LINE)
    events.close()
    rotated = rotated_files(path)
    assert rotated and all(p.name.startswith("events.jsonl.2025-11-30") for p in rotated)
    assert all(p.stat().st_size <= 25_000 for p in [path, *rotated])
    total = sum(p.stat().st_size for p in [path, *rotated])
    assert 75_000 <= total <= 100_000, total
    assert all(line == LINE for p in [path, *rotated] for line in p.read_text().splitlines(True))


def test_a_new_day_starts_a_new_file_and_old_days_are_deleted(tmp_path):
    path = tmp_path / "events.jsonl"
    clock = Clock(NOON)
    privacy = PrivacySettings(retention_days=2)
    events = RotatingEventFile(path, privacy, clock)
    for day in range(5):
        clock.now = NOON + day * DAY_S
        events.write(f"day {day}\n")
        os.utime(path, (clock.now, clock.now))        # the file's mtime is the write's time
    events.close()
    assert path.read_text() == "day 4\n"
    kept = {p.name: p.read_text() for p in rotated_files(path)}
    assert kept == {"events.jsonl.2025-12-02": "day 2\n", "events.jsonl.2025-12-03": "day 3\n"}


def test_a_file_from_an_earlier_day_is_rotated_when_the_kiosk_starts(tmp_path):
    """A restart loop cannot keep one file alive for ever: its day is its last write's."""
    path = tmp_path / "events.jsonl"
    path.write_text("yesterday\n")
    os.utime(path, (NOON - DAY_S, NOON - DAY_S))
    events = RotatingEventFile(path, PrivacySettings(), Clock(NOON))
    events.write("today\n")
    events.close()
    assert path.read_text() == "today\n"
    assert [p.read_text() for p in rotated_files(path)] == ["yesterday\n"]


def test_the_hourly_sweep_deletes_what_expired_while_the_kiosk_was_idle(tmp_path):
    path = tmp_path / "events.jsonl"
    old = tmp_path / "events.jsonl.2025-11-20"
    old.write_text("ten days ago\n")
    os.utime(old, (NOON - 10 * DAY_S, NOON - 10 * DAY_S))
    clock = Clock(NOON - 3 * DAY_S)                  # at start the file is 7 days old: kept
    events = RotatingEventFile(path, PrivacySettings(retention_days=7), clock)
    assert old.exists()
    clock.now = NOON                                  # no event since, but the sweep runs
    events.sweep()
    events.close()
    assert not old.exists()


def test_a_failed_rotation_never_stops_the_kiosk(tmp_path, caplog):
    """Someone deletes the live file: the rename fails, a warning, and logging goes on."""
    path = tmp_path / "events.jsonl"
    clock = Clock(NOON)
    events = RotatingEventFile(path, PrivacySettings(), clock)
    events.write("first\n")
    path.unlink()
    clock.now = NOON + DAY_S                          # a new day: rotation is due
    with caplog.at_level(logging.WARNING):
        events.write("second\n")
        events.write("third\n")
    events.close()
    assert path.read_text() == "second\nthird\n"
    assert [r.getMessage() for r in caplog.records if "rotate failed" in r.getMessage()]
