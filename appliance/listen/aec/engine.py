"""The echo-canceller interface and the table of implementations behind it.

`EchoCanceller` (canceller.py) owns what every canceller needs the same way:
the reference delay line, the period-to-frame split, the lifetime. What
differs is the engine that cancels one delay-aligned frame: speex (built in,
the default) or one of WebRTC's cancellers, the optional peers the bench
compares it with (`appliance bench --aec NAME`). An engine is picked by name
from `ENGINES`; its module is imported only then, and a peer that is not
installed is one line naming the install step.

An engine reports whether `cancel` returns the *linear* residual (speex: the
adaptive filter's output, before residual echo suppression) or a signal that
is already suppressed (WebRTC's cancellers expose only their final output).
The bench's ERLE is measured on `cancel`'s output, so for the peers it
includes their suppression: an engine that over-suppresses scores well on
ERLE, which is why misses and latencies are reported beside it.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass
from typing import Protocol

import numpy as np

from appliance.config import AecSettings
from appliance.errors import ConfigError, MissingDependencyError
from appliance.messages import SAMPLE_RATE_HZ, samples_for_ms

PEERS_HINT = "install the optional peers: make peers (or pip install -c constraints.txt '.[peers]')"


class EchoEngine(Protocol):
    """Cancels the echo of one delay-aligned reference frame from one mic frame."""

    frame_samples: int
    linear_residual: bool  # cancel() returns the linear filter's residual, before suppression

    def cancel(self, mic: np.ndarray, reference: np.ndarray) -> np.ndarray:
        """The mic frame with the echo of `reference` removed; int16, a new array."""
        ...

    def suppress(self, residual: np.ndarray) -> np.ndarray:
        """Residual echo suppression of the frame just cancelled; int16, a new array."""
        ...

    def close(self) -> None:
        """Free the engine's state; safe to call twice."""
        ...


@dataclass(frozen=True)
class EngineEntry:
    """One implementation: where it lives and what to do when it is missing."""

    module: str  # imported lazily; it defines `create(settings, rate_hz) -> EchoEngine`
    summary: str
    install_hint: str = ""


ENGINES: dict[str, EngineEntry] = {
    "speex": EngineEntry("appliance.listen.aec.speex",
                         "speexdsp's MDF filter + the preprocessor's residual echo suppression"),
    "webrtc-aec3": EngineEntry("appliance.listen.aec.webrtc_aec3",
                               "WebRTC AEC3 (webrtc-audio-processing 2.1 via aec-audio-processing)",
                               PEERS_HINT),
    "webrtc-legacy": EngineEntry("appliance.listen.aec.webrtc_legacy",
                                 "WebRTC's legacy AEC (Debian's libwebrtc-audio-processing 0.3, "
                                 "as in PulseAudio's echo-cancel module)", PEERS_HINT),
}


def create_engine(settings: AecSettings, rate_hz: int) -> EchoEngine:
    """The engine `settings.engine` names, built for `settings.frame_ms` frames at `rate_hz`."""
    entry = ENGINES[settings.engine]
    try:  # a peer's own module imports its library when it creates the engine
        return importlib.import_module(entry.module).create(settings, rate_hz)
    except ImportError as error:
        raise MissingDependencyError(
            f"echo canceller {settings.engine!r} is not installed ({error}); {entry.install_hint}"
        ) from None


def webrtc_frame_samples(settings: AecSettings, rate_hz: int) -> int:
    """Samples per frame for WebRTC's cancellers, which take 10 ms frames only."""
    if settings.frame_ms != 10:
        raise ConfigError("aec", "frame_ms", f"10 with engine {settings.engine!r} (WebRTC takes 10 ms)")
    return samples_for_ms(settings.frame_ms, rate_hz)


def check_engine(name: str) -> None:
    """Fail with the install step now if engine `name` cannot be built (before a long run)."""
    create_engine(AecSettings(engine=name), SAMPLE_RATE_HZ).close()
