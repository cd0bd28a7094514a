"""The local language model: streamed replies that a barge-in can stop at once.

llama.cpp (through llama-cpp-python) runs in a worker thread and hands text
pieces through a queue, so the caller (TTS) can speak the first clause while
the rest is still being generated. A reply ends one of five ways, recorded in
`LocalLlm.last_reply.outcome`: complete, max_tokens, cancelled, timeout, error.
A timeout or an error never raises out of `stream_*`: it is logged and the
configured fallback text is spoken instead, so the kiosk keeps running.

Cancelling is more than not reading: a cut must free the CPU for the detector
and ASR, so the decode in progress is aborted through llama.cpp's abort
callback. That callback is polled by the compute thread before every graph
node (hundreds per token); a Python callback there would take the GIL each
time and stall the decode behind every busy Python thread (the audio loop).
So the callback is libc's `strlen` reading a two-byte flag buffer: a C call,
no GIL, and it returns non-zero exactly when the flag was set by `cancel()`
or by the deadline timer.

Turns are rendered with the model's own chat template and the history only
ever grows at the end, so each prompt starts with the previous one and
llama-cpp's prefix matching re-evaluates only the new turns (KV cache reuse);
`last_reply.evaluated_prompt_tokens` shows how many were decoded.
"""

from __future__ import annotations

import codecs
import ctypes
import logging
import queue
import threading
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from appliance.agent.history import Conversation
from appliance.config import LlmSettings
from appliance.errors import MissingDependencyError, ModelError
from appliance.models import require
from appliance.speech.clauses import stream_clauses

log = logging.getLogger(__name__)

JOIN_TIMEOUT_S = 5.0
"""Longest wait for a cancelled worker; an aborted decode returns within one graph node."""

CHATML_TEMPLATE = (
    "{% for message in messages %}{{'<|im_start|>' + message['role'] + '\n' + message['content']"
    " + '<|im_end|>' + '\n'}}{% endfor %}{% if add_generation_prompt %}"
    "{{ '<|im_start|>assistant\n' }}{% endif %}"
)
"""Used only for a GGUF that carries no chat template of its own."""

_END = object()
"""Queue marker: the worker has finished (any outcome)."""


def _llama_cpp() -> Any:
    try:
        import llama_cpp
        import llama_cpp.llama_chat_format
    except ImportError:
        raise MissingDependencyError(
            "llama_cpp: not installed; run `pip install llama-cpp-python`"
        ) from None
    return llama_cpp


def resolve_model_path(settings: LlmSettings, models_dir: Path) -> Path:
    """An absolute `llm.model` is used as is; a bare name is a verified file in models_dir."""
    path = Path(settings.model)
    if path.is_absolute():
        if not path.is_file():
            raise ModelError(f"{path}: llm.model: file does not exist")
        return path
    return require(settings.model, models_dir)


@dataclass
class ReplyStats:
    """What happened during one reply; filled in by the worker."""

    outcome: str = "pending"  # complete | max_tokens | cancelled | timeout | error
    text: str = ""
    """Everything streamed, fallback included: what add_assistant() should record."""
    prompt_tokens: int = 0
    evaluated_prompt_tokens: int = 0
    """Prompt tokens llama.cpp decoded for this reply; the rest came from the KV cache."""
    generated_tokens: int = 0
    first_token_s: float | None = None
    total_s: float = 0.0


class _AbortFlag:
    """A two-byte C buffer that llama.cpp's abort callback (libc strlen) reads."""

    def __init__(self) -> None:
        self._buffer = ctypes.create_string_buffer(2)

    @property
    def pointer(self) -> ctypes.c_void_p:
        return ctypes.cast(self._buffer, ctypes.c_void_p)

    def set(self) -> None:
        self._buffer.value = b"x"

    def is_set(self) -> bool:
        return self._buffer.value != b""


class _Reply:
    """One generation: its abort flag, its piece queue and its worker thread."""

    def __init__(self, max_pieces: int) -> None:
        self.abort = _AbortFlag()
        self.cancelled = threading.Event()
        self.timed_out = threading.Event()
        # Never blocks the worker: at most one piece per token, the fallback
        # and two end markers (worker and cancel()).
        self.pieces: queue.Queue[object] = queue.Queue(maxsize=max_pieces + 3)
        self.stats = ReplyStats()
        self.thread: threading.Thread | None = None

    def cancel(self) -> None:
        self.cancelled.set()
        self.abort.set()
        try:
            self.pieces.put_nowait(_END)
        except queue.Full:
            pass

    def time_out(self) -> None:
        self.timed_out.set()
        self.abort.set()

    def join(self) -> None:
        if self.thread is not None:
            self.thread.join(timeout=JOIN_TIMEOUT_S)
            if self.thread.is_alive():
                log.error("llm worker did not stop within %.0f s", JOIN_TIMEOUT_S)


class _Aborted(Exception):
    """The abort flag stopped the reply (cancel or deadline)."""


class LocalLlm:
    """A GGUF chat model that streams replies, can be cancelled, and reuses its KV cache."""

    def __init__(self, settings: LlmSettings, models_dir: Path) -> None:
        self._settings = settings
        llama_cpp = _llama_cpp()
        self._lib = llama_cpp
        path = resolve_model_path(settings, models_dir)
        try:
            self._llama = llama_cpp.Llama(
                model_path=str(path), n_ctx=settings.context_tokens, n_threads=settings.threads,
                seed=settings.seed,
                n_threads_batch=settings.threads, verbose=False,
            )
        except (ValueError, RuntimeError) as error:
            raise ModelError(f"{path}: llm.model: not a GGUF model llama.cpp can load ({error})") from None
        self._vocab = llama_cpp.llama_model_get_vocab(self._llama.model)
        # Replies render with the assistant's turn opened; prime() without it,
        # so that what it caches is a prefix of the next reply's prompt.
        self._formatters = {opened: self._chat_formatter(opened) for opened in (True, False)}
        libc = ctypes.CDLL(None)
        self._abort_callback = llama_cpp.ggml_abort_callback(
            ctypes.cast(libc.strlen, ctypes.c_void_p).value
        )
        self._idle = _AbortFlag()
        self._reply: _Reply | None = None
        self._closed = False
        self.last_reply = ReplyStats()

    def _chat_formatter(self, add_generation_prompt: bool) -> Any:
        template = self._llama.metadata.get("tokenizer.chat_template") or CHATML_TEMPLATE
        special = [self._llama.token_eos(), self._llama.token_bos()]
        eos, bos = (self._llama.detokenize([t], special=True).decode(errors="replace") for t in special)
        return self._lib.llama_chat_format.Jinja2ChatFormatter(
            template=template, eos_token=eos, bos_token=bos,
            add_generation_prompt=add_generation_prompt,
        )

    def prompt_tokens(
        self, messages: Conversation | Sequence[dict[str, str]], open_reply: bool = True
    ) -> list[int]:
        """The tokens of the rendered chat, by default ending with the assistant's turn opening."""
        turns = messages.prompt_messages() if isinstance(messages, Conversation) else list(messages)
        tokens = self._tokenize(turns, open_reply)
        # A long day at the desk must not overflow the context: drop the oldest
        # exchanges (never the system prompt). The KV cache is re-filled once.
        room = self._settings.context_tokens - self._settings.max_tokens
        while len(tokens) > room and len(turns) > 2:
            first = 1 if turns[0]["role"] == "system" else 0
            del turns[first : first + 2]
            tokens = self._tokenize(turns, open_reply)
        return tokens

    def _tokenize(self, turns: list[dict[str, str]], open_reply: bool) -> list[int]:
        rendered = self._formatters[open_reply](messages=turns)
        return self._llama.tokenize(
            rendered.prompt.encode(), add_bos=not rendered.added_special, special=True
        )

    @property
    def cached_tokens(self) -> int:
        """Tokens of the last prompt and reply held in llama.cpp's KV cache."""
        return self._llama.n_tokens

    def token_text(self, tokens: Sequence[int]) -> str:
        """Tokens as text, special tokens included (to inspect a rendered prompt)."""
        return self._llama.detokenize(list(tokens), special=True).decode(errors="replace")

    def prime(self, messages: Conversation | Sequence[dict[str, str]]) -> None:
        """Decode the conversation so far (at start-up: the system prompt) into the KV cache.

        The first reply then only decodes the caller's turn. Runs in the
        caller's thread; call it while the kiosk is idle.
        """
        self._finish_previous()
        tokens = self.prompt_tokens(messages, open_reply=False)
        # The last reply's flag may be set (it was cancelled): give this decode a clear one.
        self._lib.llama_set_abort_callback(self._llama.ctx, self._abort_callback, self._idle.pointer)
        self._llama.reset()
        self._llama.eval(tokens)

    def stream_reply(self, messages: Conversation | Sequence[dict[str, str]]) -> Iterator[str]:
        """Start generating at once; yield text pieces as they come.

        On a timeout or a model error the fallback text is yielded (after a
        newline if part of the reply was already yielded, so a clause splitter
        ends the broken clause there). Breaking out of the loop cancels the reply.
        """
        self._finish_previous()
        reply = _Reply(self._settings.max_tokens)
        self._reply = reply
        self.last_reply = reply.stats
        reply.thread = threading.Thread(
            target=self._work, args=(reply, messages), name="llm-generate", daemon=True
        )
        reply.thread.start()
        return self._pieces(reply)

    def stream_clauses(self, messages: Conversation | Sequence[dict[str, str]]) -> Iterator[str]:
        """Like stream_reply, but yields each clause as soon as it is complete."""
        return self._clauses(self.stream_reply(messages))

    def cancel(self) -> None:
        """Stop the current reply from any thread: no more pieces, decode aborted."""
        reply = self._reply
        if reply is not None:
            reply.cancel()

    def close(self) -> None:
        """Cancel any reply, wait for the worker, free the model. Safe to call twice."""
        if self._closed:
            return
        self._closed = True
        self._finish_previous()
        self._llama.close()

    def __enter__(self) -> LocalLlm:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()

    def _finish_previous(self) -> None:
        """The context serves one decode at a time: stop and join the last worker."""
        if self._reply is not None:
            self._reply.cancel()
            self._reply.join()
            self._reply = None

    @staticmethod
    def _clauses(pieces: Iterator[str]) -> Iterator[str]:
        try:
            yield from stream_clauses(pieces)
        finally:
            pieces.close()  # type: ignore[attr-defined]  # a generator: cancels the reply

    @staticmethod
    def _pieces(reply: _Reply) -> Iterator[str]:
        try:
            while not reply.cancelled.is_set():
                piece = reply.pieces.get()
                if piece is _END or reply.cancelled.is_set():
                    return
                yield str(piece)
        finally:
            reply.cancel()
            reply.join()

    def _work(self, reply: _Reply, messages: Conversation | Sequence[dict[str, str]]) -> None:
        stats = reply.stats
        started = time.monotonic()
        deadline = threading.Timer(self._settings.timeout_s, reply.time_out)
        deadline.name = "llm-deadline"
        deadline.start()
        try:
            stats.outcome = self._generate(reply, messages, started)
        except _Aborted:
            stats.outcome = "timeout" if reply.timed_out.is_set() else "cancelled"
        except Exception:  # a model failure must not take the kiosk down
            log.exception("llm generation failed")
            stats.outcome = "error"
        finally:
            deadline.cancel()
            deadline.join(timeout=JOIN_TIMEOUT_S)
            stats.total_s = time.monotonic() - started
            self._finish_reply(reply)

    def _finish_reply(self, reply: _Reply) -> None:
        """Queue the fallback after a failure; `text` is then what the caller is told."""
        stats = reply.stats
        if stats.outcome == "timeout" or stats.outcome == "error":
            log.warning("llm %s after %.2f s; speaking the fallback", stats.outcome, stats.total_s)
            if not reply.cancelled.is_set():
                fallback = ("\n" if stats.text else "") + self._settings.fallback_text
                stats.text += fallback
                reply.pieces.put(fallback)
        stats.text = stats.text.strip()
        reply.pieces.put(_END)

    def _generate(
        self, reply: _Reply, messages: Conversation | Sequence[dict[str, str]], started: float
    ) -> str:
        """Decode until end of turn or max_tokens, queueing text; returns the outcome."""
        lib, llama, settings = self._lib, self._llama, self._settings
        tokens = self.prompt_tokens(messages)
        reply.stats.prompt_tokens = len(tokens)
        lib.llama_set_abort_callback(llama.ctx, self._abort_callback, reply.abort.pointer)
        # llama.cpp books decoded tokens at its next synchronize: settle any
        # earlier decode (prime, an aborted reply) before counting this one.
        lib.llama_synchronize(llama.ctx)
        lib.llama_perf_context_reset(llama.ctx)
        decoder = codecs.getincrementaldecoder("utf-8")(errors="replace")
        generated = llama.generate(
            tokens, temp=settings.temperature, repeat_penalty=settings.repeat_penalty,
            top_k=40, top_p=0.95, min_p=0.05,
        )
        try:
            for token in self._until_aborted(generated, reply):
                stats = reply.stats
                if stats.first_token_s is None:
                    stats.first_token_s = time.monotonic() - started
                    stats.evaluated_prompt_tokens = self._decoded_tokens()
                if lib.llama_vocab_is_eog(self._vocab, token):
                    return "complete"
                stats.generated_tokens += 1
                piece = decoder.decode(llama.detokenize([token]))
                if piece:
                    stats.text += piece
                    reply.pieces.put(piece)
                if stats.generated_tokens >= settings.max_tokens:
                    return "max_tokens"
        finally:
            generated.close()
        return "complete"

    def _decoded_tokens(self) -> int:
        """Tokens decoded since the last perf reset, from llama.cpp's own counters.

        llama.cpp reports each count as at least 1 (it divides by them), so a
        count is only taken when time was actually spent on it.
        """
        perf = self._lib.llama_perf_context(self._llama.ctx)
        batched = perf.n_p_eval if perf.t_p_eval_ms > 0 else 0
        single = perf.n_eval if perf.t_eval_ms > 0 else 0
        return batched + single

    @staticmethod
    def _until_aborted(generated: Iterator[int], reply: _Reply) -> Iterator[int]:
        """The sampled tokens, turning an abort (in a decode or between tokens) into _Aborted."""
        while True:
            if reply.abort.is_set():
                raise _Aborted
            try:
                token = next(generated)
            except StopIteration:
                return
            except RuntimeError:
                if reply.abort.is_set():  # llama_decode returned 2: aborted by our flag
                    raise _Aborted from None
                raise
            yield token
