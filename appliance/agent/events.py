"""The conversation's event log: one JSON object per line, and the same to the log.

Every event has `t` (seconds since the kiosk started, on the pipeline's clock,
which is simulated time in `appliance sim`), `event` (its type's `name`, see
`vocabulary.py`) and the type's fields. What is kept (the events file, the
journal line at info level, the recent window in memory, and ordinary
subscribers such as the console timeline) is the record after `redact()` with
the `[privacy]` settings: by default no guest words and no reply text, only
counts. A subscriber that must
show the live conversation to the guest (the screen) asks for `words=True`
and must not keep it.

Memory stays bounded: `recent` holds the last WINDOW records for the screen and
for tests; a caller that needs a whole conversation (the sim's summary)
subscribes and keeps what it needs.
"""

from __future__ import annotations

import dataclasses
import json
import logging
import threading
from collections import deque
from collections.abc import Callable
from pathlib import Path
from typing import Any

from appliance.agent.eventfile import RotatingEventFile
from appliance.agent.redact import redact
from appliance.agent.vocabulary import EVENT_TYPES, ConversationEvent
from appliance.config import PrivacySettings
from appliance.device.journal import log_event
from appliance.errors import ApplianceError

EVENT_NAMES = frozenset(EVENT_TYPES)
"""Every event name of the log format (the keys of the one name table)."""
WINDOW = 256
"""Records kept in memory: a few conversations' worth, never the life of the process."""
SWEEP_S = 3600.0
"""How often expired events files are looked for while the kiosk runs."""

log = logging.getLogger("appliance.events")

Subscriber = Callable[[dict[str, Any]], None]


class EventLog:
    """Thread-safe JSON-lines event writer with subscribers, redacted by `privacy`."""

    def __init__(self, path: Path | None = None,
                 privacy: PrivacySettings = PrivacySettings()) -> None:  # noqa: B008 - frozen
        self._lock = threading.Lock()
        self.privacy = privacy
        self._file: RotatingEventFile | None = None
        self._stop = threading.Event()
        self._sweeper: threading.Thread | None = None
        if path is not None:
            try:
                self._file = RotatingEventFile(path, privacy)
            except OSError as error:
                raise ApplianceError(f"events file {path}: cannot open for appending "
                                     f"({error.strerror or error})") from None
            self._sweeper = threading.Thread(target=self._sweep, name="events-sweeper", daemon=True)
            self._sweeper.start()
        self._subscribers: list[tuple[Subscriber, bool]] = []
        self.recent: deque[dict[str, Any]] = deque(maxlen=WINDOW)

    def subscribe(self, subscriber: Subscriber, *, words: bool = False) -> None:
        """Call `subscriber` with each record; `words` gives it the unredacted one."""
        self._subscribers.append((subscriber, words))

    def emit(self, t: float, event: ConversationEvent | str, **fields: Any) -> dict[str, Any]:
        """Record one event; returns the kept record.

        `event` is a typed event (how the kiosk records), or the name of one with
        that type's fields as keywords (a record replayed by a tool or a test).
        """
        name, fields = _name_and_fields(event, fields)
        record = {"t": round(t, 3), "event": name, **fields}
        kept = redact(record, self.privacy)
        line = json.dumps(kept, ensure_ascii=False)
        with self._lock:
            self.recent.append(kept)
            if self._file is not None:
                self._file.write(line + "\n")
        log_event(log, name, line)
        for subscriber, words in self._subscribers:
            subscriber(record if words else kept)
        return kept

    @property
    def degraded(self) -> bool:
        """True while the events file cannot be written (disk full): events reach the journal only."""
        return self._file is not None and self._file.failing

    def named(self, event: str) -> list[dict[str, Any]]:
        """Every recent event of one kind, in order."""
        with self._lock:
            return [record for record in self.recent if record["event"] == event]

    def _sweep(self) -> None:
        while not self._stop.wait(SWEEP_S):
            with self._lock:
                if self._file is not None:
                    self._file.sweep()

    def close(self) -> None:
        self._stop.set()
        if self._sweeper is not None:
            self._sweeper.join()
        with self._lock:
            if self._file is not None:
                self._file.close()
                self._file = None

    def __enter__(self) -> EventLog:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()


def _name_and_fields(event: ConversationEvent | str, fields: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    """The record's name and fields; a name must be in the table and its fields the type's own."""
    if isinstance(event, ConversationEvent):
        if fields:
            raise TypeError(f"{event.name}: a typed event carries its own fields")
        return event.name, event.fields()
    kind = EVENT_TYPES.get(event)
    if kind is None:
        raise ValueError(f"unknown event {event!r}")
    unknown = set(fields) - {field.name for field in dataclasses.fields(kind)}
    if unknown:
        raise ValueError(f"event {event!r} has no field {', '.join(sorted(unknown))}")
    return event, fields
