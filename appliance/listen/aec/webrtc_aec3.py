"""WebRTC's AEC3, an optional peer of speex (the `peers` extra), as an `EchoEngine`.

`aec-audio-processing` wraps PulseAudio's webrtc-audio-processing 2.1: its
`AudioProcessor` takes 10 ms int16 frames, the far end through
`process_reverse_stream` and the mic through `process_stream`. Only the echo
canceller is enabled (no noise suppression, no gain control: the detector
needs the true level of what is left; the package's own VAD is not used).
The reference arrives already delay-aligned by `EchoCanceller`, so the stream
delay is 0; AEC3 estimates what is left of the delay itself. Its output is
already residual-suppressed, so `suppress` is the identity.
"""

from __future__ import annotations

import numpy as np

from appliance.config import AecSettings
from appliance.listen.aec.engine import webrtc_frame_samples


def _processor_class() -> type:
    from aec_audio_processing import (
        AudioProcessor,  # the peers extra; engine.py turns ImportError into a hint
    )

    return AudioProcessor


class WebRtcAec3Engine:
    linear_residual = False

    def __init__(self, settings: AecSettings, rate_hz: int) -> None:
        self.frame_samples = webrtc_frame_samples(settings, rate_hz)
        processor = _processor_class()(enable_aec=True, enable_ns=False, enable_agc=False,
                                       enable_vad=False)
        processor.set_stream_format(rate_hz, 1, rate_hz, 1)
        processor.set_reverse_stream_format(rate_hz, 1)
        processor.set_stream_delay(0)
        self._processor = processor

    def cancel(self, mic: np.ndarray, reference: np.ndarray) -> np.ndarray:
        processor = self._processor
        if processor is None:
            raise ValueError("AEC3 engine is closed")
        processor.process_reverse_stream(np.ascontiguousarray(reference, dtype=np.int16).tobytes())
        processor.set_stream_delay(0)
        out = processor.process_stream(np.ascontiguousarray(mic, dtype=np.int16).tobytes())
        return np.frombuffer(out, dtype=np.int16).copy()

    def suppress(self, residual: np.ndarray) -> np.ndarray:
        return residual.copy()

    def close(self) -> None:
        self._processor = None  # the SWIG object frees the processor when collected


def create(settings: AecSettings, rate_hz: int) -> WebRtcAec3Engine:
    return WebRtcAec3Engine(settings, rate_hz)
