"""The agent's voice: piper synthesis clause by clause, with word boundaries.

Text is cut into clauses (`clauses.split_clauses`) and each clause becomes one
`SpeechChunk` as soon as it is synthesised, so the first clause plays while
the rest is still being made. Every chunk carries one `WordTiming` per word,
derived from piper's phoneme alignments (`word_timing`), so a cut tells the
conversation which word the caller heard last. `cancel()` stops between
clauses: the clause being synthesised is dropped and the iterator ends.
Synthesis runs in the caller's thread; this module starts none.
"""

from __future__ import annotations

import json
import logging
import threading
from collections.abc import Iterator
from pathlib import Path

import numpy as np

from appliance.config import TtsSettings
from appliance.errors import MissingDependencyError, ModelError
from appliance.messages import SpeechChunk
from appliance.models import require
from appliance.speech.clauses import split_clauses, words
from appliance.speech.word_timing import TimedPhoneme, word_timings

log = logging.getLogger(__name__)


def voice_model(voice: str, models_dir: Path) -> tuple[Path, bool]:
    """The voice's model file, and whether it already has the alignment output.

    `models install` writes `<voice>.aligned.onnx` for the bundled voice: loading
    it from a file costs ~80 MB less than piper patching the model in memory,
    which stays the way for any other voice.
    """
    aligned = models_dir / f"{voice}.aligned.onnx"
    if aligned.exists():
        return require(aligned.name, models_dir), True
    return require(f"{voice}.onnx", models_dir), False


def _load_voice(model: Path, config: Path, aligned: bool):
    """The piper voice; the pre-aligned one on a session without onnxruntime's memory pattern.

    piper's loader gives every voice a default session, whose memory pattern
    planner keeps a pre-planned block for each input length it has seen: after a
    few replies that held 40-90 MB more resident for no CPU saving (measured with
    tests/agent/measure_memory.py and the same sentences either way). A voice
    without its own alignment output still goes through piper's loader, which
    patches the alignments in memory.
    """
    try:
        import onnxruntime
        from piper import PiperVoice
        from piper.config import PiperConfig
    except ImportError as error:
        raise MissingDependencyError(f"piper: not installed ({error}); pip install piper-tts") from None
    try:  # read here so that a broken JSON is blamed on the JSON, not on the .onnx
        json.loads(config.read_text(encoding="utf-8"))
    except (OSError, ValueError) as error:
        raise ModelError(f"{config}: not a piper voice config ({error})") from None
    try:
        if not aligned:
            return PiperVoice.load(model, config, include_alignments=True)
        options = onnxruntime.SessionOptions()
        options.enable_mem_pattern = False
        session = onnxruntime.InferenceSession(str(model), sess_options=options,
                                               providers=["CPUExecutionProvider"])
        return PiperVoice(session=session, config=PiperConfig.from_dict(json.loads(config.read_text())))
    except Exception as error:  # onnxruntime raises its own exception types for a bad file
        raise ModelError(f"{model}: not a loadable piper voice ({error})") from None


def _timed_phonemes(piece, offset: int) -> list[TimedPhoneme]:
    """Sample spans of one piper sentence's phonemes, shifted by `offset`.

    A voice without alignment output gets an even spread over its phonemes:
    word positions are then approximate, but the kiosk keeps talking.
    """
    if piece.phoneme_alignments:
        durations = [(a.phoneme, int(a.num_samples)) for a in piece.phoneme_alignments]
    else:
        share = len(piece.audio_float_array) // max(1, len(piece.phonemes))
        durations = [(phoneme, share) for phoneme in piece.phonemes]
    timed, cursor = [], offset
    for phoneme, samples in durations:
        timed.append(TimedPhoneme(phoneme, cursor, cursor + samples))
        cursor += samples
    return timed


class Synthesizer:
    """Piper voice from the models directory; `synthesize(text)` yields one chunk per clause."""

    def __init__(self, settings: TtsSettings, models_dir: Path) -> None:
        model, aligned = voice_model(settings.voice, models_dir)
        config = require(f"{settings.voice}.onnx.json", models_dir)
        self._settings = settings
        self._voice = _load_voice(model, config, aligned)
        from piper import SynthesisConfig

        # Per-sentence peak normalisation would make loudness jump between
        # clauses; the voice's own level with a fixed gain stays consistent.
        self._synthesis = SynthesisConfig(length_scale=settings.length_scale, normalize_audio=False,
                                          volume=10 ** (settings.gain_db / 20.0),
                                          noise_scale=settings.noise_scale,
                                          noise_w_scale=settings.noise_w_scale)
        self._lock = threading.Lock()
        self._generation = 0
        log.info("TTS voice %s at %d Hz (alignments %s)", settings.voice, self.rate_hz,
                 "on" if self._has_alignments() else "unavailable: word times are estimates")

    @property
    def rate_hz(self) -> int:
        """Sample rate of the voice, Hertz."""
        return int(self._voice.config.sample_rate)

    def _has_alignments(self) -> bool:
        return len(self._voice.session.get_outputs()) > 1

    def synthesize(self, text: str) -> Iterator[SpeechChunk]:
        """Chunks of `text`, one per clause, each made only when the previous one is taken.

        A `cancel()` after this call (even before the first `next`) ends the iterator.
        """
        if self._voice is None:
            raise RuntimeError("Synthesizer is closed")
        with self._lock:
            generation = self._generation
        return self._chunks(split_clauses(text, self._settings.clause_min_words), generation)

    def cancel(self) -> None:
        """Stop every synthesis started before this call, at the next clause boundary."""
        with self._lock:
            self._generation += 1

    def _cancelled(self, generation: int) -> bool:
        with self._lock:
            return generation != self._generation

    def _chunks(self, clauses: list[str], generation: int) -> Iterator[SpeechChunk]:
        for clause in clauses:
            if self._cancelled(generation) or self._voice is None:
                return
            chunk = self.synthesize_clause(clause)
            if self._cancelled(generation):
                return
            yield chunk

    def synthesize_clause(self, clause: str) -> SpeechChunk:
        """One clause as a single chunk with its word boundaries (no clause splitting)."""
        parts, timed, offset = [], [], 0
        for piece in self._voice.synthesize(clause, self._synthesis, include_alignments=True):
            samples = piece.audio_int16_array
            timed.extend(_timed_phonemes(piece, offset))
            parts.append(samples)
            offset += len(samples)
        audio = np.concatenate(parts) if parts else np.zeros(0, dtype=np.int16)
        clause_words = words(clause)
        alone = [[p for sentence in self._voice.phonemize(word) for p in sentence] for word in clause_words]
        end = len(audio)
        inside = [TimedPhoneme(t.phoneme, min(t.start, end), min(t.end, end)) for t in timed]
        timings = word_timings(clause_words, alone, inside)
        return SpeechChunk(text=clause, samples=audio, rate_hz=self.rate_hz, words=timings)

    def close(self) -> None:
        """Release the voice; pending iterators end at their next clause. Safe to call twice."""
        self.cancel()
        self._voice = None

    def __enter__(self) -> Synthesizer:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()
