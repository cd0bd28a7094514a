"""The Moonshine backend of `asr.Recognizer`: whole-utterance decoding, hidden behind the speech.

Moonshine is not a streaming model: it encodes a whole stretch of audio and
decodes its text token by token, and each decoder step costs tens of
milliseconds. Decoding everything after the endpoint would keep the caller
waiting, so while the caller speaks a `DraftWorker` thread transcribes the
audio so far whenever the caller pauses briefly (`draft_pause_ms`), or has
spoken a second more without a pause. Each draft is decoded with the previous
one as its draft, so the worker too only decodes what is new. `final()` stops
the worker between two decoder steps, encodes the whole utterance (cheap) and
decodes it with the latest draft: the words the caller said before the last
pause are checked in one batched decoder pass, and only the words after it
are decoded step by step. The result is the same greedy transcript as a
decode from scratch. When the newest draft was decoded to its end over every
sound of the utterance (`settled`: the caller paused and said nothing more),
`final()` returns it without decoding again.

Moonshine invents sentences for silence and noise, so the transcript is
empty unless the utterance had sound above `SPEECH_FLOOR_DBFS`, and the
decoder's budget is bounded by the length of the sounding part
(`moonshine.max_tokens_for`).

Word times are derived, not decoded: the words are laid over the sounding
10 ms blocks of the utterance in proportion to their letters, so a word
starts and ends inside speech and the pauses between words fall where the
audio is quiet. They are good to a word or so, enough for the kiosk (which
uses the text) and for a transcript viewer; see docs/speech.md.
"""

from __future__ import annotations

import threading
from pathlib import Path

import numpy as np

from appliance.config import AsrSettings
from appliance.messages import SAMPLE_RATE_HZ, RecognizedWord, samples_for_ms
from appliance.speech.asr import QUIET_BELOW_PEAK_DB, Recognizer
from appliance.speech.moonshine import Decoding, MoonshineModel, max_tokens_for

SPEECH_FLOOR_DBFS = -50.0
"""An utterance whose loudest 10 ms is quieter than this is silence: nothing is decoded."""
DRAFT_EVERY_S = 1.0
"""Without a pause, a draft is decoded after this much more speech."""
MIN_ENCODER_SAMPLES = samples_for_ms(100)
_BLOCK = samples_for_ms(10)


def block_rms(samples: np.ndarray) -> np.ndarray:
    """RMS of each whole 10 ms block of int16 audio."""
    usable = samples[: samples.size // _BLOCK * _BLOCK].astype(np.float64).reshape(-1, _BLOCK)
    return np.sqrt(np.mean(usable**2, axis=1)) if usable.size else np.zeros(0)


def sounding_blocks(samples: np.ndarray) -> np.ndarray:
    """Indexes of the 10 ms blocks within `QUIET_BELOW_PEAK_DB` of the loudest one, if it is loud enough."""
    rms = block_rms(samples)
    floor = 32768.0 * 10 ** (SPEECH_FLOOR_DBFS / 20.0)
    if not rms.size or rms.max() < floor:
        return np.zeros(0, dtype=int)
    return np.flatnonzero(rms > rms.max() * 10 ** (-QUIET_BELOW_PEAK_DB / 20.0))


def word_times(words: list[str], samples: np.ndarray) -> list[RecognizedWord]:
    """`words` laid over the sounding blocks of `samples` in proportion to their letters."""
    blocks = sounding_blocks(samples)
    if not words or not blocks.size:
        return []
    weights = np.array([max(1, sum(ch.isalnum() for ch in word)) for word in words], dtype=float)
    edges = np.concatenate([[0.0], np.cumsum(weights) / weights.sum()]) * blocks.size
    block_s = _BLOCK / SAMPLE_RATE_HZ
    timed = []
    for index, word in enumerate(words):
        first = min(round(edges[index]), blocks.size - 1)
        last = max(first, min(round(edges[index + 1]) - 1, blocks.size - 1))
        start_s, end_s = float(blocks[first] * block_s), float((blocks[last] + 1) * block_s)
        timed.append(RecognizedWord(word, start_s, end_s))
    return timed


class DraftWorker:
    """A named thread that transcribes the utterance so far; one job at a time."""

    def __init__(self, model: MoonshineModel) -> None:
        self._model = model
        self._wake = threading.Condition()
        self._job: tuple[int, np.ndarray, tuple[int, ...]] | None = None
        self._busy = False
        self._stop_decode = threading.Event()
        self._closing = False
        self.result: tuple[int, int, tuple[int, ...], bool] = (-1, 0, (), False)
        """(utterance number, samples covered, tokens, decoded to the end) of the newest draft
        (a stopped decode's tokens are kept as a draft for the next one, but are not whole)."""
        self._thread = threading.Thread(target=self._run, name="moonshine-draft", daemon=True)
        self._thread.start()

    @property
    def idle(self) -> bool:
        with self._wake:
            return self._job is None and not self._busy

    def submit(self, utterance: int, samples: np.ndarray, draft: tuple[int, ...]) -> None:
        with self._wake:
            self._job = (utterance, samples, draft)
            self._stop_decode.clear()
            self._wake.notify()

    def wait(self) -> None:
        """Wait until the submitted draft, if any, is decoded."""
        with self._wake:
            while self._job is not None or self._busy:
                self._wake.wait()

    def cancel(self) -> None:
        """Drop the waiting job and stop the running decode at its next step, without waiting.

        The endpoint must not wait for a draft's encoder call: the final
        decode runs beside the stopping worker (onnxruntime sessions take
        concurrent calls) and the stale result is ignored by its number.
        """
        with self._wake:
            self._job = None
            self._stop_decode.set()

    def close(self) -> None:
        with self._wake:
            self._closing = True
            self._job = None
            self._stop_decode.set()
            self._wake.notify()
        self._thread.join(timeout=5.0)

    def _run(self) -> None:
        while True:
            with self._wake:
                while self._job is None and not self._closing:
                    self._wake.wait()
                if self._closing:
                    return
                utterance, samples, draft = self._job
                self._job, self._busy = None, True
            try:
                decoding = self._decode(samples, draft)
                with self._wake:
                    whole = not self._stop_decode.is_set()
                    if decoding.tokens or whole:
                        self.result = (utterance, samples.size, decoding.tokens, whole)
            finally:
                with self._wake:
                    self._busy = False
                    self._wake.notify_all()

    def _decode(self, samples: np.ndarray, draft: tuple[int, ...]) -> Decoding:
        sounding = sounding_blocks(samples)
        hidden = self._model.encode(samples)
        return self._model.decode(hidden, max_tokens_for(sounding.size * _BLOCK / SAMPLE_RATE_HZ),
                                  draft, stop=self._stop_decode.is_set)


class MoonshineRecognizer(Recognizer):
    backend = "moonshine"

    def __init__(self, model_dir: Path, settings: AsrSettings,
                 graphs: tuple[Path, Path] | None = None) -> None:
        self._model = MoonshineModel(model_dir, settings.threads, graphs)
        self._worker = DraftWorker(self._model) if settings.incremental else None
        self._pause_samples = samples_for_ms(settings.draft_pause_ms)
        self._utterance = 0
        self.last_decoding: Decoding | None = None
        """The final decode of the previous utterance (its cost, for measurements)."""
        self._next_utterance()
        super().__init__(settings)

    @property
    def settled(self) -> bool:
        """The newest draft is of this utterance, decoded to its end, and covers its last sound."""
        return self._settled_tokens() is not None

    def _settled_tokens(self) -> tuple[int, ...] | None:
        if self._worker is None:
            return None
        utterance, covered, tokens, whole = self._worker.result
        if utterance == self._utterance and whole and tokens and covered >= self._loud_until:
            return tokens
        return None

    def _heard_enough(self) -> bool:
        """Sound above the speech floor: drafts lag the audio, so words cannot say it."""
        return self._peak_rms >= 32768.0 * 10 ** (SPEECH_FLOOR_DBFS / 20.0)

    def _last_sound(self) -> int:
        return self._loud_until

    def _feed(self, samples: np.ndarray) -> None:
        self._chunks.append(samples)
        if self._worker is None or not self._worker.idle or self._loud_until <= self._drafted_until:
            return
        paused = self._fed - self._loud_until >= self._pause_samples
        if paused or self._fed - self._drafted_until >= DRAFT_EVERY_S * SAMPLE_RATE_HZ:
            self._drafted_until = self._fed
            self._worker.submit(self._utterance, self._audio(), self._draft())

    def wait_for_drafts(self) -> None:
        """Block until the worker has finished the draft it is decoding (offline callers, tests)."""
        if self._worker is not None:
            self._worker.wait()

    def _draft(self) -> tuple[int, ...]:
        if self._worker is None:
            return ()
        utterance, _covered, tokens, _whole = self._worker.result
        return tokens if utterance == self._utterance else ()

    def _audio(self) -> np.ndarray:
        if len(self._chunks) > 1:
            self._chunks = [np.concatenate(self._chunks)]
        return self._chunks[0] if self._chunks else np.zeros(0, dtype=np.int16)

    def _partial_words(self) -> list[RecognizedWord]:
        tokens = self._draft()
        if tokens == self._timed_draft[0]:
            return self._timed_draft[1]
        words = word_times(self._model.text(tokens).split(), self._audio()) if tokens else []
        self._timed_draft = (tokens, words)
        return words

    def _final_words(self) -> list[RecognizedWord]:
        """The utterance's words: a settled draft's as they are (it was decoded to the end
        over every sound the utterance had, so a new decode would only repeat it), else
        the draft checked and completed over the whole utterance."""
        settled = self._settled_tokens()
        if self._worker is not None:
            self._worker.cancel()
        samples = self._audio()
        draft = self._draft()
        self._next_utterance()
        sounding = sounding_blocks(samples)
        if not sounding.size or samples.size < MIN_ENCODER_SAMPLES:
            return []
        if settled is not None:
            self.last_decoding = Decoding(settled, draft_accepted=len(settled), steps=0)
            return word_times(self._model.text(settled).split(), samples)
        # Trailing silence only costs encoder time; keep 100 ms after the last sound.
        end = min(samples.size, (sounding[-1] + 1) * _BLOCK + MIN_ENCODER_SAMPLES)
        hidden = self._model.encode(samples[:end])
        self.last_decoding = self._model.decode(
            hidden, max_tokens_for(sounding.size * _BLOCK / SAMPLE_RATE_HZ), draft, timed=True)
        return word_times(self._model.text(self.last_decoding.tokens).split(), samples[:end])

    def _restart(self) -> None:
        if self._worker is not None:
            self._worker.cancel()
        self._next_utterance()

    def _next_utterance(self) -> None:
        self._utterance += 1
        self._chunks: list[np.ndarray] = []
        self._drafted_until = 0
        self._timed_draft: tuple[tuple[int, ...], list[RecognizedWord]] = ((), [])

    def _release(self) -> None:
        if self._worker is not None:
            self._worker.close()
            self._worker = None
