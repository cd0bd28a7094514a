"""One agent reply in the making: clause texts → TTS chunks, in a worker thread.

The clause texts come from the LLM as it generates (`LocalLlm.stream_clauses`)
or, to resume after a backchannel, from the rest of an interrupted sentence.
Synthesised chunks wait in a small bounded queue for the conversation to hand
them to the speaker, so the worker never runs far ahead of what is heard.
`cancel()` is the barge-in path: it aborts the LLM decode, stops synthesis at
the next clause, and throws away every chunk not yet handed to the speaker.
"""

from __future__ import annotations

import logging
import queue
import threading
import time
from collections.abc import Callable, Iterable

from appliance.messages import SpeechChunk

log = logging.getLogger(__name__)

END = None
"""Put after the last chunk: the reply is complete."""


class Reply:
    """A cancellable worker turning clause texts into speech chunks."""

    def __init__(self, clauses: Iterable[str], synthesize: Callable[[str], SpeechChunk], *,
                 abort: Callable[[], None] = lambda: None, max_chunks: int = 2,
                 name: str = "reply", started_t: float = 0.0) -> None:
        self._clauses = clauses
        self._synthesize = synthesize
        self._abort = abort
        self.chunks: queue.Queue[SpeechChunk | None] = queue.Queue(maxsize=max_chunks)
        self._stop = threading.Event()
        self.started_at = time.perf_counter()
        self.first_clause_at: float | None = None
        """perf_counter() when the first clause text arrived (the LLM's first words)."""
        self.first_chunk_at: float | None = None
        """perf_counter() when the first chunk was synthesised (the first sound is ready)."""
        self.started_t = started_t
        """Pipeline time when the reply was started, seconds."""
        self._made_at: dict[int, float] = {}
        self.failed: Exception | None = None
        self.failed_stage = ""
        """"llm" when the clause source raised, "tts" when synthesis did."""
        self._thread = threading.Thread(target=self._run, name=name, daemon=True)
        self._thread.start()

    @property
    def cancelled(self) -> bool:
        return self._stop.is_set()

    @property
    def running(self) -> bool:
        return self._thread.is_alive()

    def ready_t(self, chunk: SpeechChunk) -> float:
        """Pipeline time by which `chunk` was made: `started_t` plus the compute it took.

        Where pipeline time runs faster than the wall clock (`appliance sim`),
        the kiosk holds a chunk until then, so latencies include the compute.
        """
        return self.pipeline_time(self._made_at.get(id(chunk), self.started_at))

    def pipeline_time(self, perf_time: float) -> float:
        """A perf_counter() instant of this reply's work, as pipeline time."""
        return self.started_t + (perf_time - self.started_at)

    def _run(self) -> None:
        stage = "llm"
        try:
            for clause in self._clauses:
                if self.first_clause_at is None:
                    self.first_clause_at = time.perf_counter()
                if self._stop.is_set():
                    return
                stage = "tts"
                chunk = self._synthesize(clause)
                stage = "llm"
                self._made_at[id(chunk)] = time.perf_counter()
                if self.first_chunk_at is None:
                    self.first_chunk_at = self._made_at[id(chunk)]
                if chunk.samples.size and not self._put(chunk):
                    return
        except Exception as error:  # noqa: BLE001 - a failed reply must not kill the kiosk
            log.exception("reply failed in %s", stage)
            self.failed, self.failed_stage = error, stage
        finally:
            self._put(END)

    def _put(self, item: SpeechChunk | None) -> bool:
        """Wait for room unless cancelled; False when the reply was cancelled."""
        while not self._stop.is_set():
            try:
                self.chunks.put(item, timeout=0.05)
                return True
            except queue.Full:
                continue
        return False

    def next_chunk(self, timeout: float | None = 0.0) -> SpeechChunk | None:
        """The next chunk; `END` when the reply is complete; raises queue.Empty if not ready."""
        if timeout == 0.0:
            return self.chunks.get_nowait()
        return self.chunks.get(timeout=timeout)

    def wait_ready(self, timeout: float) -> bool:
        """Block until a chunk (or the end) is ready to take, without taking it."""
        deadline = time.perf_counter() + timeout
        while self.chunks.empty() and self.running:
            if time.perf_counter() >= deadline:
                return False
            self._thread.join(timeout=0.005)
        return not self.chunks.empty()

    def cancel(self, join_timeout: float = 2.0) -> None:
        """Stop generating and synthesising; discard chunks not yet taken. Safe twice."""
        self._stop.set()
        self._abort()
        while True:
            try:
                self.chunks.get_nowait()
            except queue.Empty:
                break
        self._thread.join(timeout=join_timeout)
        if join_timeout and self._thread.is_alive():
            log.warning("reply worker still finishing a clause after %.1f s", join_timeout)
