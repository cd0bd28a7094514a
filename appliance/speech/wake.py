"""Wake word detection with openWakeWord on the echo-cancelled signal.

Fed 80 ms (1280-sample) frames; a detection needs `patience_frames`
consecutive scores at or above `threshold`, and the detector then stays
quiet until the score falls below the threshold again, so one spoken wake
word is one `WakeWord` event. Every model file comes from `models/`
(openWakeWord 0.5.1 would otherwise look for, or fetch, its own copies).
"""

from __future__ import annotations

import logging
from pathlib import Path

import numpy as np

from appliance.config import WakeSettings
from appliance.errors import MissingDependencyError, ModelError
from appliance.messages import SAMPLE_RATE_HZ, WakeWord
from appliance.models import require

FRAME_SAMPLES = 1280
"""openWakeWord's step: 80 ms at 16 kHz."""

log = logging.getLogger(__name__)


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
        melspec = require("melspectrogram.onnx", models_dir)
        embedding = require("embedding_model.onnx", models_dir)
        try:
            from openwakeword.model import Model
        except ImportError as error:
            raise MissingDependencyError(f"openwakeword: not installed ({error}); "
                                         "pip install openwakeword==0.5.1") from None
        try:
            self._model = Model(wakeword_models=[str(model_path)], inference_framework="onnx",
                                melspec_model_path=str(melspec), embedding_model_path=str(embedding))
        except Exception as error:  # onnxruntime raises its own types for a bad file
            reason = str(error).splitlines()[0] if str(error) else type(error).__name__
            raise ModelError(f"{model_path}: wake.model: not a loadable wake word model "
                             f"({reason})") from None
        self._key = next(iter(self._model.models))
        self.name = settings.model.removesuffix(".onnx")
        self._threshold = settings.threshold
        self._patience = settings.patience_frames
        self._above = 0
        self._armed = True
        self._fed = 0
        log.info("wake word %s from %s (threshold %.2f, patience %d)", self.name, model_path.name,
                 self._threshold, self._patience)

    def process(self, frame: np.ndarray, t: float | None = None) -> WakeWord | None:
        """Score one frame (int16, 16 kHz); `t` is its start time, default: audio fed so far."""
        samples = np.asarray(frame, dtype=np.int16).reshape(-1)
        start_t = self._fed / SAMPLE_RATE_HZ if t is None else t
        self._fed += samples.size
        score = float(self._model.predict(samples)[self._key])
        if score < self._threshold:
            self._above, self._armed = 0, True
            return None
        self._above += 1
        if not self._armed or self._above < self._patience:
            return None
        self._armed = False
        return WakeWord(t=start_t + samples.size / SAMPLE_RATE_HZ, model=self.name, score=score)

    def reset(self) -> None:
        """Forget recent scores (e.g. after a detection was acted on); features keep streaming."""
        self._model.reset()
        self._above, self._armed = 0, True

    def close(self) -> None:
        """Release the ONNX sessions. Safe to call twice."""
        self._model = None

    def __enter__(self) -> WakeWordDetector:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()
