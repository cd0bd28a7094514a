"""Streaming Silero VAD on the echo-cancelled 16 kHz signal.

The model (openWakeWord's bundled Silero v4 ONNX: inputs `input`, `sr`, `h`,
`c`) runs on fixed 512-sample windows (32 ms) and carries its LSTM state from
one window to the next. Samples arrive in loop periods of any size; the last
probability is held until the next window completes. One intra-op thread:
the loop must not fight the LLM for cores.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from appliance.errors import ModelError
from appliance.messages import SAMPLE_RATE_HZ

WINDOW_SAMPLES = 512
MODEL_FILE = "silero_vad.onnx"


class SileroVad:
    """Speech probability of the most recent 32 ms window."""

    def __init__(self, model_path: Path | str) -> None:
        import onnxruntime

        options = onnxruntime.SessionOptions()
        options.intra_op_num_threads = 1
        options.inter_op_num_threads = 1
        try:
            self._session = onnxruntime.InferenceSession(
                str(model_path), sess_options=options, providers=["CPUExecutionProvider"]
            )
        except Exception as error:  # onnxruntime raises its own unrelated types
            raise ModelError(f"{model_path}: not a loadable Silero VAD model ({error})") from None
        names = {item.name for item in self._session.get_inputs()}
        if names != {"input", "sr", "h", "c"}:
            raise ModelError(f"{model_path}: expected Silero v4 inputs input, sr, h, c; got {sorted(names)}")
        self._rate = np.array(SAMPLE_RATE_HZ, dtype=np.int64)
        self.reset()

    def reset(self) -> None:
        """Forget the LSTM state and any partial window."""
        self._h = np.zeros((2, 1, 64), dtype=np.float32)
        self._c = np.zeros((2, 1, 64), dtype=np.float32)
        self._pending = np.zeros(0, dtype=np.float32)
        self.probability = 0.0

    def accept(self, samples: np.ndarray) -> float:
        """Feed int16 samples; returns the probability of the latest complete window."""
        self._pending = np.concatenate((self._pending, samples.astype(np.float32) / 32768.0))
        while len(self._pending) >= WINDOW_SAMPLES:
            window, self._pending = self._pending[:WINDOW_SAMPLES], self._pending[WINDOW_SAMPLES:]
            self.probability = self._run(window)
        return self.probability

    def _run(self, window: np.ndarray) -> float:
        output, self._h, self._c = self._session.run(
            None, {"input": window[np.newaxis, :], "sr": self._rate, "h": self._h, "c": self._c}
        )
        return float(output[0, 0])

    def close(self) -> None:
        """Release the session; safe to call twice."""
        self._session = None

    def __enter__(self) -> SileroVad:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()
