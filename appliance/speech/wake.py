"""Wake word detection with openWakeWord's ONNX models on the echo-cancelled signal.

Fed audio of any length, scored per 80 ms (1280-sample) frame; a detection needs `patience_frames`
consecutive scores at or above `threshold`, and the detector then stays
quiet until the score falls below the threshold again, so one spoken wake
word is one `WakeWord` event. Every model file comes from `models/`.

The three models (mel spectrogram, Google's speech embedding, the wake word
classifier) run here directly on onnxruntime, the same streaming steps as
openWakeWord 0.5.1's `AudioFeatures` and `Model.predict`: importing that
package pulls scikit-learn and SciPy into the kiosk (its `__init__` imports a
verifier trainer), about 96 MB of resident memory for nothing the kiosk uses.
tests/speech/test_wake.py checks the scores against openWakeWord's own.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import numpy as np

from appliance.config import WakeSettings
from appliance.errors import MissingDependencyError, ModelError
from appliance.messages import SAMPLE_RATE_HZ, WakeWord
from appliance.models import require

FRAME_SAMPLES = 1280
"""openWakeWord's step: 80 ms at 16 kHz; one embedding and one score per frame."""
MEL_CONTEXT_SAMPLES = 480
"""Audio before the frame that its mel frames also see (3 hops of 10 ms)."""
MEL_WINDOW_FRAMES = 76
"""Mel frames (10 ms hop) the embedding model reads at once."""
WARM_UP_SCORES = 5
"""Scores reported as 0 after start or reset, as openWakeWord does while its buffers fill."""

log = logging.getLogger(__name__)


def _session(path: Path, key: str) -> Any:
    """One single-threaded CPU session: the wake word runs every 80 ms beside the audio loop.

    `key` names what the file is to the user in an error (the config key, or the manifest).
    """
    try:
        import onnxruntime
    except ImportError as error:
        raise MissingDependencyError(f"onnxruntime: not installed ({error}); "
                                     "pip install onnxruntime") from None
    options = onnxruntime.SessionOptions()
    options.intra_op_num_threads = options.inter_op_num_threads = 1
    try:
        return onnxruntime.InferenceSession(str(path), sess_options=options,
                                            providers=["CPUExecutionProvider"])
    except Exception as error:  # onnxruntime raises its own exception types for bad files
        reason = str(error).splitlines()[0] if str(error) else type(error).__name__
        raise ModelError(f"{path}: {key}: not an ONNX model onnxruntime can load ({reason})") from None


def wake_model_file(name: str, models_dir: Path) -> str:
    """The file of wake model `name`: itself, `<name>.onnx`, or the newest `<name>_v*.onnx`."""
    if name.endswith(".onnx"):
        return name
    if (models_dir / f"{name}.onnx").exists():
        return f"{name}.onnx"
    versions = sorted(models_dir.glob(f"{name}_v*.onnx"))
    if not versions:
        raise ModelError(f"{models_dir}: no wake word model for wake.model = {name!r} "
                         f"(expected {name}.onnx or {name}_v*.onnx)")
    return versions[-1].name


class WakeWordDetector:
    """`process(frame)` returns a WakeWord when the configured model fires."""

    def __init__(self, settings: WakeSettings, models_dir: Path) -> None:
        model_path = require(wake_model_file(settings.model, models_dir), models_dir)
        self._melspec = _session(require("melspectrogram.onnx", models_dir), "models/manifest.toml")
        self._embedding = _session(require("embedding_model.onnx", models_dir), "models/manifest.toml")
        self._classifier = _session(model_path, "wake.model")
        classifier_input = self._classifier.get_inputs()[0]
        self._classifier_input = classifier_input.name
        self._context = int(classifier_input.shape[1])  # embeddings the classifier reads
        self.name = settings.model.removesuffix(".onnx")
        self._threshold = settings.threshold
        self._patience = settings.patience_frames
        # Buffers start as openWakeWord's do: ones for the mel frames, and the
        # embeddings of low-level noise (seeded here, so runs repeat).
        self._audio_tail = np.zeros(0, dtype=np.int16)
        self._pending = np.zeros(0, dtype=np.int16)   # fed samples short of a whole frame
        self._mel = np.ones((MEL_WINDOW_FRAMES, 32), dtype=np.float32)
        noise = np.random.default_rng(0).integers(-1000, 1000, 4 * SAMPLE_RATE_HZ).astype(np.int16)
        self._embeddings = self._embed_clip(noise)[-self._context:]
        self._scores = 0
        self._above = 0
        self._armed = True
        self._fed = 0
        log.info("wake word %s from %s (threshold %.2f, patience %d)", self.name, model_path.name,
                 self._threshold, self._patience)

    def _mel_frames(self, samples: np.ndarray) -> np.ndarray:
        """Mel spectrogram frames, scaled as openWakeWord scales them for the embedding model."""
        spectrum = self._melspec.run(None, {"input": samples.astype(np.float32)[None, :]})[0]
        return np.squeeze(spectrum) / 10.0 + 2.0

    def _embed(self, windows: np.ndarray) -> np.ndarray:
        """Speech embeddings (N, 96) of mel windows (N, 76, 32)."""
        batch = windows.astype(np.float32)[..., None]
        return self._embedding.run(None, {"input_1": batch})[0].reshape(len(windows), -1)

    def _embed_clip(self, samples: np.ndarray) -> np.ndarray:
        mel = self._mel_frames(samples)
        starts = range(0, len(mel) - MEL_WINDOW_FRAMES + 1, 8)
        return self._embed(np.stack([mel[i:i + MEL_WINDOW_FRAMES] for i in starts]))

    def score(self, frame: np.ndarray) -> float:
        """The classifier's score after one more 80 ms frame (0 while the buffers warm up)."""
        audio = np.concatenate([self._audio_tail, frame])
        self._audio_tail = audio[-MEL_CONTEXT_SAMPLES:]
        self._mel = np.vstack([self._mel, self._mel_frames(audio)])[-MEL_WINDOW_FRAMES:]
        embedding = self._embed(self._mel[None])
        self._embeddings = np.vstack([self._embeddings, embedding])[-self._context:]
        features = self._embeddings[None].astype(np.float32)
        score = float(self._classifier.run(None, {self._classifier_input: features})[0].reshape(-1)[0])
        self._scores += 1
        return score if self._scores > WARM_UP_SCORES else 0.0

    def process(self, samples: np.ndarray, t: float | None = None) -> WakeWord | None:
        """Feed audio of any length (int16, 16 kHz); every complete 80 ms frame is scored.

        `t` is the start time of `samples` (default: audio fed so far); a
        detection is stamped with the end of the frame that fired.
        """
        samples = np.asarray(samples, dtype=np.int16).reshape(-1)
        start_t = self._fed / SAMPLE_RATE_HZ if t is None else t
        self._fed += samples.size
        pending = np.concatenate([self._pending, samples])
        fresh_from = pending.size - samples.size     # where this call's samples start in `pending`
        detection = None
        for end in range(FRAME_SAMPLES, pending.size + 1, FRAME_SAMPLES):
            fired = self._judge(self.score(pending[end - FRAME_SAMPLES:end]))
            if fired is not None and detection is None:
                detection = WakeWord(t=start_t + (end - fresh_from) / SAMPLE_RATE_HZ,
                                     model=self.name, score=fired)
        self._pending = pending[pending.size - pending.size % FRAME_SAMPLES:]
        return detection

    def _judge(self, score: float) -> float | None:
        """The score if this frame completes a detection (patience met, re-armed), else None."""
        if score < self._threshold:
            self._above, self._armed = 0, True
            return None
        self._above += 1
        if not self._armed or self._above < self._patience:
            return None
        self._armed = False
        return score

    def reset(self) -> None:
        """Forget recent scores (e.g. after a detection was acted on); features keep streaming."""
        self._scores = 0
        self._above, self._armed = 0, True

    def close(self) -> None:
        """Release the ONNX sessions. Safe to call twice."""
        self._melspec = self._embedding = self._classifier = None

    def __enter__(self) -> WakeWordDetector:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()
