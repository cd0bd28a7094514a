"""Synthesised clauses kept for reuse, so a kiosk's usual first words cost no TTS time.

A front-desk kiosk answering from its site's facts says the same sentences
again and again, and the first clause of a reply is the one the caller waits
for. `ClauseCache` wraps the voice: `warm()` synthesises a list of clauses
ahead of time and keeps them for good (`Answerer.openings()`: the first clause
of every fact, the fallback and small talk; at most half the budget), at
start-up in a background thread; any other clause synthesised once is kept
too, least recently used out first, within the budget in seconds of audio.
A fact edited while the kiosk runs is synthesised when first spoken, then
kept. Chunks are immutable, so one can be handed out any number of times.
"""

from __future__ import annotations

import logging
import threading
from collections import OrderedDict
from collections.abc import Callable, Iterable

from appliance.messages import SpeechChunk

log = logging.getLogger(__name__)


class ClauseCache:
    """`synthesize(clause)` with the most recently used clauses' audio kept."""

    def __init__(self, synthesize: Callable[[str], SpeechChunk], max_seconds: float) -> None:
        self._synthesize = synthesize
        self._max_seconds = max_seconds
        self._chunks: OrderedDict[str, SpeechChunk] = OrderedDict()
        self._pinned: set[str] = set()
        """Clauses made by `warm()`: they stay whatever else is spoken."""
        self._seconds = 0.0
        self._lock = threading.Lock()
        self.hits = self.misses = 0

    def __call__(self, clause: str) -> SpeechChunk:
        with self._lock:
            chunk = self._chunks.get(clause)
            if chunk is not None:
                self._chunks.move_to_end(clause)
                self.hits += 1
                return chunk
            self.misses += 1
        chunk = self._synthesize(clause)
        self._keep(clause, chunk)
        return chunk

    def warm(self, clauses: Iterable[str], stop: threading.Event | None = None) -> int:
        """Synthesise the clauses not kept yet and keep them for good (until `stop`, or until
        they fill half the budget: the other half serves what is spoken); returns how
        many were made."""
        made = 0
        for clause in clauses:
            if stop is not None and stop.is_set():
                break
            with self._lock:
                if self._pinned_seconds() >= self._max_seconds / 2:
                    break
                if clause in self._chunks:
                    self._pinned.add(clause)
                    continue
            self._keep(clause, self._synthesize(clause), pin=True)
            made += 1
        return made

    @property
    def seconds(self) -> float:
        """Audio kept, seconds."""
        return self._seconds

    def _pinned_seconds(self) -> float:
        return sum(_seconds(self._chunks[clause]) for clause in self._pinned)

    def _keep(self, clause: str, chunk: SpeechChunk, pin: bool = False) -> None:
        if _seconds(chunk) > self._max_seconds / 2:
            return
        with self._lock:
            if pin:
                self._pinned.add(clause)
            if clause in self._chunks:
                return
            self._chunks[clause] = chunk
            self._seconds += _seconds(chunk)
            unpinned = (key for key in list(self._chunks) if key not in self._pinned)
            while self._seconds > self._max_seconds:
                dropped = self._chunks.pop(next(unpinned))
                self._seconds -= _seconds(dropped)


def _seconds(chunk: SpeechChunk) -> float:
    return chunk.samples.size / chunk.rate_hz
