"""Measuring the echo path and the cut latency of a device, real or simulated.

`calibrate()` drives the real duplex loop and speaker on any `AudioDevice`:
it plays a seeded white-noise burst, records what came back, and estimates
by cross-correlation the lag and gain between the played stream and the
captured stream; then it plays noise, calls `Speaker.cut()`, and measures how
long the capture takes to fall by 40 dB.

`echo_delay_ms` is the lag left after subtracting the device's own reported
playback-to-capture delay (its buffer fill): the acoustic path plus whatever
the driver hides (PulseAudio's server-side buffering, an I2S FIFO). That is
what the echo canceller must add to the device delay (`aec.extra_delay_ms`).
"""

from __future__ import annotations

import logging
import threading
from dataclasses import asdict, dataclass

import numpy as np

from appliance.audio.device import AudioDevice
from appliance.audio.loop import DuplexLoop
from appliance.audio.speaker import Speaker
from appliance.config import AudioSettings
from appliance.errors import AudioDeviceError
from appliance.messages import SAMPLE_RATE_HZ, samples_for_ms

log = logging.getLogger(__name__)

PROBE_DBFS = -12.0
CUT_DROP_DB = 40.0
_MAX_LAG_MS = 1000.0
_FRAME_MS = 1.0  # resolution of the cut-latency measurement
_HOLD_MS = 50.0  # the capture must stay 40 dB down this long to count as silent
_LEAD_MS = 500.0  # silence before the probe, while the device settles
_ATTEMPTS = 3
_PEAK_TAPS = 2  # taps either side of the correlation peak counted as the direct path
MIN_PROMINENCE_DB = 20.0
"""How far the echo's correlation peak must stand above the correlation's RMS
over all lags. Uncorrelated noise peaks at about 12 dB over ~16 000 lags; an
echo of the probe stands 30 dB and more above it."""


@dataclass(frozen=True)
class EchoEstimate:
    """Lag (samples) and gain (dB) of the strongest path from played to captured."""

    lag_samples: int
    gain_db: float
    prominence_db: float
    """The peak over the correlation's RMS: how sure we are there is an echo at all."""

    @property
    def lag_ms(self) -> float:
        return self.lag_samples * 1000.0 / SAMPLE_RATE_HZ


@dataclass(frozen=True)
class Calibration:
    """The figures `appliance calibrate` reports (the three keys are its contract)."""

    echo_delay_ms: float
    echo_gain_db: float
    cut_latency_ms: float | None
    device_delay_ms: float

    def as_json(self) -> dict[str, float | None]:
        return asdict(self)


def probe_signal(seconds: float, seed: int = 0) -> np.ndarray:
    """Seeded white noise at PROBE_DBFS RMS, int16: flat spectrum, sharp correlation peak."""
    rng = np.random.default_rng(seed)
    rms = 32768.0 * 10.0 ** (PROBE_DBFS / 20.0)
    noise = rng.standard_normal(int(seconds * SAMPLE_RATE_HZ)) * rms
    return np.clip(np.round(noise), -32768, 32767).astype(np.int16)


def estimate_echo(played: np.ndarray, captured: np.ndarray,
                  max_lag_ms: float = _MAX_LAG_MS) -> EchoEstimate:
    """Lag of the cross-correlation peak, and the gain of the path around it.

    With a white probe the normalised cross-correlation is the impulse
    response. The gain is the energy of its taps within `_PEAK_TAPS` of the
    peak, so that a delay that falls between two samples (a card running at
    48 kHz, say) does not read as a weaker path.
    """
    x = played.astype(np.float64)
    y = captured.astype(np.float64)
    size = 1 << int(np.ceil(np.log2(x.size + y.size)))
    correlation = np.fft.irfft(np.fft.rfft(y, size) * np.conj(np.fft.rfft(x, size)), size)
    max_lag = min(samples_for_ms(max_lag_ms), y.size - 1)
    window = np.abs(correlation[: max_lag + 1])
    lag = int(np.argmax(window))
    energy = float(np.dot(x, x))
    taps = correlation[max(0, lag - _PEAK_TAPS):lag + _PEAK_TAPS + 1] / energy if energy else [0.0]
    gain = float(np.sqrt(np.sum(np.square(taps))))
    rms = float(np.sqrt(np.mean(np.square(window))))
    prominence = window[lag] / rms if rms > 0 else 1.0
    return EchoEstimate(lag, float(20.0 * np.log10(max(gain, 1e-12))),
                        float(20.0 * np.log10(max(prominence, 1e-12))))


def cut_latency_ms(captured: np.ndarray, cut_sample: int, drop_db: float = CUT_DROP_DB,
                   level_window_ms: float = 100.0) -> float | None:
    """Milliseconds from `cut_sample` until the capture's 1 ms peaks fell `drop_db`
    below their level just before the cut and stayed there; None if they never did."""
    frame = samples_for_ms(_FRAME_MS)
    signal = np.abs(captured.astype(np.float64))
    before = signal[max(0, cut_sample - samples_for_ms(level_window_ms)):cut_sample]
    if before.size == 0 or before.max() == 0:
        return None
    threshold = before.max() * 10.0 ** (-drop_db / 20.0)
    after = signal[cut_sample:]
    frames = after[: after.size // frame * frame].reshape(-1, frame).max(axis=1)
    loud = frames > threshold
    hold = samples_for_ms(_HOLD_MS) // frame
    for index in range(frames.size - hold + 1):
        if not loud[index:index + hold].any():
            return index * _FRAME_MS
    return None


class _Recorder:
    """A PeriodSink that keeps what was played and captured, and the device delay."""

    def __init__(self) -> None:
        self.played: list[np.ndarray] = []
        self.mic: list[np.ndarray] = []
        self.delays: list[int] = []
        self.captured_samples = 0
        self.realigned_at: list[int] = []  # captured sample counts at which alignment changed
        self._progress = threading.Condition()

    def on_period(self, mic: np.ndarray, played: np.ndarray, t: float, delay_samples: int,
                  realign: bool) -> None:
        with self._progress:
            if realign:
                self.realigned_at.append(self.captured_samples)
            self.mic.append(mic)
            self.played.append(played)
            self.delays.append(delay_samples)
            self.captured_samples += mic.size
            self._progress.notify_all()

    def wait_for(self, samples: int, timeout_s: float) -> None:
        """Block until `samples` have been captured (the loop runs in its thread)."""
        with self._progress:
            if not self._progress.wait_for(lambda: self.captured_samples >= samples, timeout_s):
                raise AudioDeviceError(
                    f"calibration: the device captured {self.captured_samples} samples "
                    f"of {samples} expected within {timeout_s:.0f} s")

    def signals(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        with self._progress:
            return np.concatenate(self.played), np.concatenate(self.mic), np.array(self.delays)


def calibration_signal(probe_s: float, seed: int) -> tuple[np.ndarray, int, int, int]:
    """Silence (lets the device settle), the probe, silence, then noise to be cut.
    Returns the signal, where the probe starts, where the echo measurement ends
    and the sample at which to cut."""
    lead = np.zeros(samples_for_ms(_LEAD_MS), np.int16)
    parts = [lead, probe_signal(probe_s, seed), np.zeros(samples_for_ms(500), np.int16)]
    echo_end = sum(part.size for part in parts)
    noise = probe_signal(0.5, seed + 1)
    return (np.concatenate([*parts, noise, np.zeros(samples_for_ms(300), np.int16)]),
            lead.size, echo_end, echo_end + noise.size // 2)


def calibrate(device: AudioDevice, settings: AudioSettings, threaded: bool = True,
              probe_s: float = 1.0, seed: int = 0) -> Calibration:
    """Measure echo delay and gain, then the cut latency, on an opened device.

    A measurement during which the alignment changed (an xrun: PulseAudio
    has a few while it settles) is worthless and is repeated, up to
    `_ATTEMPTS` times; the last one is returned with a warning otherwise.
    """
    for attempt in range(1, _ATTEMPTS + 1):
        result, disturbed = _measure(device, settings, threaded, probe_s, seed)
        if not disturbed:
            return result
        log.warning("calibration attempt %d: the device's alignment changed while measuring",
                    attempt)
    return result


def _measure(device: AudioDevice, settings: AudioSettings, threaded: bool, probe_s: float,
             seed: int) -> tuple[Calibration, bool]:
    """One pass. The whole signal is queued before the loop starts, so the
    played stream and the signal share sample indices. `threaded=False` steps
    the loop synchronously (the simulated room, faster than real time); a real
    card runs the loop in its own thread and the cut comes from this thread,
    just as the detector's would."""
    signal, probe_start, echo_end, cut_at = calibration_signal(probe_s, seed)
    recorder = _Recorder()
    speaker = Speaker(device, settings)
    loop = DuplexLoop(device, speaker, recorder, settings.realtime_priority)
    speaker.enqueue_audio(signal, SAMPLE_RATE_HZ)
    period = device.period_samples
    if threaded:
        with loop:
            timeout_s = 10.0 + 2.0 * signal.size / SAMPLE_RATE_HZ  # PulseAudio starts slowly
            recorder.wait_for(cut_at, timeout_s)
            cut_sample = recorder.captured_samples
            speaker.cut()
            recorder.wait_for(signal.size, timeout_s)
    else:
        loop.run_periods(cut_at // period)
        cut_sample = recorder.captured_samples
        speaker.cut()
        loop.run_periods((signal.size - cut_sample) // period + 1)
    played, captured, delays = recorder.signals()
    echo = estimate_echo(played[:echo_end], captured[:echo_end])
    if echo.prominence_db < MIN_PROMINENCE_DB:
        raise AudioDeviceError(
            f"calibrate: no echo of the probe in the capture (correlation peak "
            f"{echo.prominence_db:.1f} dB over its floor, needs {MIN_PROMINENCE_DB:.0f} dB): "
            "is the microphone connected, the speaker on and the volume up? Nothing was measured")
    device_delay = float(np.median(delays[probe_start // period: echo_end // period]))
    result = Calibration(
        echo_delay_ms=round(echo.lag_ms - device_delay * 1000.0 / SAMPLE_RATE_HZ, 3),
        echo_gain_db=round(float(echo.gain_db), 2),
        cut_latency_ms=cut_latency_ms(captured, cut_sample),
        device_delay_ms=round(device_delay * 1000.0 / SAMPLE_RATE_HZ, 3),
    )
    # A drop made by the cut itself realigns too; only xruns before it matter.
    disturbed = any(probe_start <= at < cut_sample for at in recorder.realigned_at)
    return result, disturbed
