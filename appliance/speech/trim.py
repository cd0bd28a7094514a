"""Take the voice's silence off the ends of a chunk, so the agent speaks sooner.

Piper starts every clause with 50-100 ms of near silence and ends it with
150-230 ms, as if each were a sentence of its own. At the start of a reply
the lead is pure latency; between two chunks of one sentence (the short
first chunk `lead_early` splits off, or a comma clause) lead and tail add up
to a quarter-second pause mid-sentence. `trim_silence` keeps a little of each
(faded, so the cut is not heard) and moves the word timings with the audio,
so a barge-in still knows exactly which words were heard.
"""

from __future__ import annotations

import dataclasses

import numpy as np

from appliance.messages import SpeechChunk, WordTiming

SILENT_BELOW_PEAK_DB = 40.0
"""A sample this far under the chunk's peak is part of the silence at its ends."""
KEEP_LEAD_MS = 10.0
KEEP_TAIL_MS = 60.0
"""Tail kept after a chunk that does not end a sentence (the sentence's rhythm goes on)."""
KEEP_SENTENCE_TAIL_MS = 180.0
"""Tail kept after a chunk that ends a sentence: the pause between sentences."""
FADE_MS = 5.0


def trim_silence(chunk: SpeechChunk) -> SpeechChunk:
    """The chunk with at most KEEP_LEAD_MS before its first sound and a short tail after."""
    samples = chunk.samples
    if not samples.size:
        return chunk
    level = np.abs(samples.astype(np.int32))
    loud = np.flatnonzero(level > level.max() * 10 ** (-SILENT_BELOW_PEAK_DB / 20.0))
    if not loud.size:
        return chunk
    rate = chunk.rate_hz
    ends_sentence = chunk.text.rstrip("\"')”’").endswith((".", "!", "?", "…"))
    keep_tail = KEEP_SENTENCE_TAIL_MS if ends_sentence else KEEP_TAIL_MS
    start = max(0, int(loud[0]) - int(KEEP_LEAD_MS * rate / 1000))
    end = min(samples.size, int(loud[-1]) + 1 + int(keep_tail * rate / 1000))
    if start == 0 and end == samples.size:
        return chunk
    trimmed = samples[start:end].astype(np.float32)
    fade = min(int(FADE_MS * rate / 1000), trimmed.size // 2)
    if start and fade:
        trimmed[:fade] *= np.linspace(0.0, 1.0, fade, endpoint=False)
    if end < samples.size and fade:
        trimmed[-fade:] *= np.linspace(1.0, 0.0, fade)
    words = tuple(WordTiming(w.word, min(max(0, w.start_sample - start), end - start),
                             min(max(0, w.end_sample - start), end - start)) for w in chunk.words)
    return dataclasses.replace(chunk, samples=np.round(trimmed).astype(np.int16), words=words)
