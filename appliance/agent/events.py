"""The conversation's event log: one JSON object per line, and the same to the log.

Every event has `t` (seconds since the kiosk started, on the pipeline's clock,
which is simulated time in `appliance sim`) and `event` (a name from
`EVENT_NAMES`). What is kept (the events file, the journal line at info level,
the recent window in memory, and ordinary subscribers such as the console
timeline) is the record after `redact()` with the `[privacy]` settings: by
default no guest words and no reply text, only counts. A subscriber that must
show the live conversation to the guest (the screen) asks for `words=True`
and must not keep it.

Memory stays bounded: `recent` holds the last WINDOW records for the screen and
for tests; a caller that needs a whole conversation (the sim's summary)
subscribes and keeps what it needs.
"""

from __future__ import annotations

import json
import logging
import threading
from collections import deque
from collections.abc import Callable
from pathlib import Path
from typing import Any

from appliance.agent.eventfile import RotatingEventFile
from appliance.agent.redact import redact
from appliance.config import PrivacySettings
from appliance.errors import ApplianceError

EVENT_NAMES = frozenset({
    "ready", "wake", "user_speech_start", "user_speech_end", "partial_transcript", "transcript",
    "llm_first_token",
    "agent_speech_start", "agent_speech_end", "barge_in_duck", "barge_in_release", "barge_in_stop",
    "backchannel_resume", "false_interruption_resume", "replan", "state", "error",
})
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

    def emit(self, t: float, event: str, **fields: Any) -> dict[str, Any]:
        """Record one event (`event` must be one of EVENT_NAMES); returns the kept record."""
        if event not in EVENT_NAMES:
            raise ValueError(f"unknown event {event!r}")
        record = {"t": round(t, 3), "event": event, **fields}
        kept = redact(record, self.privacy)
        line = json.dumps(kept, ensure_ascii=False)
        with self._lock:
            self.recent.append(kept)
            if self._file is not None:
                self._file.write(line + "\n")
        log.info(line, extra={"EVENT": event})
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
