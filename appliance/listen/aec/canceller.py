"""The kiosk's one echo canceller: delay alignment, then an engine (speex by default)
that cancels the echo and suppresses what the linear filter leaves.

It lives for the whole process so the adapted filter is never thrown away.
The reference is exactly what was written to the card, delayed by the
device's playback-to-capture delay (minus a small margin so it never lags
the echo; speex models the acoustic part within its filter). After an xrun
the delay line is rebuilt for the new delay but the filter is kept.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from appliance.config import AecSettings
from appliance.listen.aec.engine import EchoEngine, create_engine
from appliance.messages import SAMPLE_RATE_HZ, samples_for_ms


@dataclass(frozen=True)
class CancelledPeriod:
    """One period after echo cancellation.

    `residual` is the linear canceller's output, `cleaned` the same after
    residual echo suppression (what listeners hear), `reference` the aligned
    far-end samples that were cancelled against.
    """

    cleaned: np.ndarray
    residual: np.ndarray
    reference: np.ndarray


class ReferenceDelayLine:
    """A FIFO whose fill is the reference delay: push what was played, pop what the mic hears now."""

    def __init__(self) -> None:
        self._pending = np.zeros(0, dtype=np.int16)
        self.delay_samples = 0

    def realign(self, delay_samples: int) -> None:
        """Restart with silence of the new delay: the old samples no longer line up."""
        self.delay_samples = max(0, delay_samples)
        self._pending = np.zeros(self.delay_samples, dtype=np.int16)

    def exchange(self, played: np.ndarray) -> np.ndarray:
        """Append this period's played samples and return the same count of delayed ones."""
        self._pending = np.concatenate((self._pending, played.astype(np.int16, copy=False)))
        count = len(played)
        out, self._pending = self._pending[:count], self._pending[count:]
        return out


class EchoCanceller:
    """The reference delay line and the echo engine (`aec.engine`: speex by default)."""

    def __init__(self, settings: AecSettings, rate_hz: int = SAMPLE_RATE_HZ,
                 engine: EchoEngine | None = None) -> None:
        self.settings = settings
        self._engine = create_engine(settings, rate_hz) if engine is None else engine
        self.frame_samples = self._engine.frame_samples
        self._offset = samples_for_ms(settings.extra_delay_ms - settings.delay_margin_ms, rate_hz)
        self._delay_line = ReferenceDelayLine()
        self._aligned = False

    @property
    def linear_residual(self) -> bool:
        """`cancel` returns the linear filter's residual (False: already suppressed by the engine)."""
        return self._engine.linear_residual

    @property
    def reference_delay_samples(self) -> int:
        """Samples by which the reference is currently delayed."""
        return self._delay_line.delay_samples

    def process(self, mic: np.ndarray, played: np.ndarray, delay_samples: int,
                realign: bool = False) -> CancelledPeriod:
        """Cancel the echo of `played` from `mic` and suppress what is left; one period."""
        residual, reference = self.cancel(mic, played, delay_samples, realign)
        return CancelledPeriod(cleaned=self.suppress(residual), residual=residual, reference=reference)

    def cancel(self, mic: np.ndarray, played: np.ndarray, delay_samples: int,
               realign: bool = False) -> tuple[np.ndarray, np.ndarray]:
        """Cancellation only: (residual, aligned reference); a multiple of the frame."""
        if len(mic) != len(played) or len(mic) % self.frame_samples:
            raise ValueError(
                f"period of {len(mic)} mic / {len(played)} played samples is not a multiple "
                f"of the {self.frame_samples}-sample AEC frame"
            )
        if realign or not self._aligned:
            self._delay_line.realign(delay_samples + self._offset)
            self._aligned = True
        reference = self._delay_line.exchange(played)
        return self._by_frame(lambda frame: self._engine.cancel(mic[frame], reference[frame]),
                              len(mic)), reference

    def suppress(self, residual: np.ndarray) -> np.ndarray:
        """Residual echo suppression of the frames just cancelled (identity when disabled)."""
        return self._by_frame(lambda frame: self._engine.suppress(residual[frame]), len(residual))

    def _by_frame(self, work: Callable[[slice], np.ndarray], count: int) -> np.ndarray:
        out = np.empty(count, dtype=np.int16)
        for start in range(0, count, self.frame_samples):
            frame = slice(start, start + self.frame_samples)
            out[frame] = work(frame)
        return out

    def close(self) -> None:
        """Free the engine; safe to call twice."""
        self._engine.close()

    def __enter__(self) -> EchoCanceller:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()
