"""The conversation's event log: one JSON object per line, and the same to the log.

Every event has `t` (seconds since the kiosk started, on the pipeline's clock,
which is simulated time in `appliance sim`) and `event` (a name from
`EVENT_NAMES`). Subscribers (the console timeline, the LED, the systemd
status) get each event as it is emitted.
"""

from __future__ import annotations

import json
import logging
import threading
from collections.abc import Callable
from pathlib import Path
from typing import IO, Any

EVENT_NAMES = frozenset({
    "ready", "wake", "user_speech_start", "user_speech_end", "transcript", "llm_first_token",
    "agent_speech_start", "agent_speech_end", "barge_in_duck", "barge_in_release", "barge_in_stop",
    "backchannel_resume", "false_interruption_resume", "replan", "state", "error",
})

log = logging.getLogger("appliance.events")

Subscriber = Callable[[dict[str, Any]], None]


class EventLog:
    """Thread-safe JSON-lines event writer with subscribers."""

    def __init__(self, path: Path | None = None) -> None:
        self._lock = threading.Lock()
        self._file: IO[str] | None = None
        if path is not None:
            path.parent.mkdir(parents=True, exist_ok=True)
            self._file = path.open("w", encoding="utf-8")
        self._subscribers: list[Subscriber] = []
        self.records: list[dict[str, Any]] = []
        self.degraded = False
        """True once the file could not be written (disk full): events go to the journal only."""

    def subscribe(self, subscriber: Subscriber) -> None:
        self._subscribers.append(subscriber)

    def emit(self, t: float, event: str, **fields: Any) -> dict[str, Any]:
        """Record one event; `event` must be one of EVENT_NAMES."""
        if event not in EVENT_NAMES:
            raise ValueError(f"unknown event {event!r}")
        record = {"t": round(t, 3), "event": event, **fields}
        line = json.dumps(record, ensure_ascii=False)
        with self._lock:
            self.records.append(record)
            if self._file is not None:
                self._write(line)
        log.info(line, extra={"EVENT": event})
        for subscriber in self._subscribers:
            subscriber(record)
        return record

    def _write(self, line: str) -> None:
        """Append one line; a full or failing disk degrades to the journal, never raises.

        The kiosk must keep talking when /var fills up: the file is given up
        (what it holds stays), and every event still reaches the journal.
        """
        assert self._file is not None
        try:
            self._file.write(line + "\n")
            self._file.flush()
        except OSError as error:
            log.error("event log %s: %s; events go to the journal only from here",
                      getattr(self._file, "name", "?"), error.strerror or error)
            try:
                self._file.close()
            except OSError:
                pass  # the unwritable buffer is dropped with it
            self._file = None
            self.degraded = True

    def named(self, event: str) -> list[dict[str, Any]]:
        """Every recorded event of one kind, in order."""
        with self._lock:
            return [record for record in self.records if record["event"] == event]

    def close(self) -> None:
        with self._lock:
            if self._file is not None:
                self._file.close()
                self._file = None

    def __enter__(self) -> EventLog:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()
