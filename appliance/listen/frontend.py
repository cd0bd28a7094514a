"""The always-on listening path of the duplex loop: AEC → suppression → VAD → detector.

`FrontEnd` is the loop's `PeriodSink`. Per period it cancels the echo of what
was just played, suppresses the residual echo, runs the VAD, and lets the
barge-in detector decide. The VAD listens to the linear canceller's output:
the suppressor also attenuates the first syllable of a caller it cannot yet
tell from echo, which delayed onsets by ~30 ms on the bench, and the VAD is
level-invariant anyway. Except where the residual is mostly echo: with a
clipping loudspeaker the linear canceller leaves echo the VAD hears as speech
on most of the agent's own frames (85 % in a clipping booth) and that masks a
quiet caller (Silero 0.4 on "nose" 10 dB under the echo, 0.9 on the
suppressed signal). `VadInput` switches the VAD to the suppressed signal
while the measured ERLE is low or once the VAD has been hearing the echo.
The energy test (is it louder than the echo that can leak?) uses the
suppressed signal, where the non-linear echo is gone. Cleaned 16 kHz frames go to
listeners (wake word, ASR) through bounded queues that drop the oldest frame
rather than ever block the loop; detector events go to a bounded queue too.
Each stage's compute time is accounted, so the bench can add it to latencies
and report the real-time factor.
"""

from __future__ import annotations

import logging
import queue
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from appliance.config import AecSettings, DetectorSettings
from appliance.levels import power
from appliance.listen.aec.calibration import calibration_burst
from appliance.listen.aec.canceller import EchoCanceller
from appliance.listen.aec.erle import BAND_EDGES_HZ, BandSplitter, EchoLeakTracker
from appliance.listen.detector import BargeInDetector, DetectorState, FrameEvidence
from appliance.listen.vad import SileroVad
from appliance.messages import SAMPLE_RATE_HZ, AudioFrame, Event, SpeakerControl, samples_for_ms

log = logging.getLogger(__name__)

CALIBRATION_SLACK_MS = 500.0  # the burst's echo tail and the output queue, after its last sample


@dataclass
class StageCost:
    """Accumulated compute of one stage: wall time delays decisions, CPU time is the load."""

    wall_s: float = 0.0
    cpu_s: float = 0.0
    calls: int = 0


@dataclass
class StageClock:
    stages: dict[str, StageCost] = field(default_factory=dict)
    period_wall_s: float = 0.0  # everything timed in the current period
    period_cpu_s: float = 0.0   # its CPU time (what the stages cost, without preemption)

    @contextmanager
    def stage(self, name: str) -> Iterator[None]:
        wall, cpu = time.perf_counter(), time.thread_time()
        try:
            yield
        finally:
            elapsed, used = time.perf_counter() - wall, time.thread_time() - cpu
            cost = self.stages.setdefault(name, StageCost())
            cost.wall_s += elapsed
            cost.cpu_s += used
            cost.calls += 1
            self.period_wall_s += elapsed
            self.period_cpu_s += used

    @property
    def cpu_s(self) -> float:
        return sum(cost.cpu_s for cost in self.stages.values())


@dataclass(frozen=True)
class FrameTrace:
    """Everything the front end saw and decided in one AEC frame (for the bench and plots)."""

    t: float
    vad_probability: float
    cleaned_power: float
    predicted_leak_power: float
    speech: bool
    state: DetectorState
    calibrating: bool
    residual: np.ndarray
    cleaned: np.ndarray


class VadInput:
    """Chooses what the VAD listens to: the linear residual, or the suppressed signal where
    the residual is mostly echo (low ERLE, or the VAD hears speech in the agent's own echo)."""

    def __init__(self, settings: DetectorSettings, frame_s: float, time_constant_s: float) -> None:
        self._settings = settings
        self._alpha = float(np.exp(-frame_s / time_constant_s))
        self.echo_speech_rate = 0.0
        self.cleaned = False

    def choose(self, residual: np.ndarray, cleaned: np.ndarray) -> np.ndarray:
        return cleaned if self.cleaned else residual

    def echo_frame(self, probability: float, erle_db: float | None) -> None:
        """Fold in one far-end-only frame's VAD probability and the current ERLE estimate."""
        settings = self._settings
        if not self.cleaned:  # the rate says something about the residual only
            heard = float(probability >= settings.vad_threshold)
            self.echo_speech_rate = self._alpha * self.echo_speech_rate + (1 - self._alpha) * heard
        low_erle = erle_db is not None and erle_db < settings.vad_cleaned_below_erle_db
        self.cleaned = low_erle or self.echo_speech_rate > settings.vad_cleaned_above_echo_rate


def _offer(target: queue.Queue, item: object) -> bool:
    """Put without blocking; on a full queue drop the oldest item. False if something was dropped."""
    try:
        target.put_nowait(item)
        return True
    except queue.Full:
        try:
            target.get_nowait()
        except queue.Empty:
            pass
        try:
            target.put_nowait(item)
        except queue.Full:
            pass
        return False


class FrontEnd:
    """The loop's `PeriodSink`; owns the canceller, the VAD and the detector."""

    def __init__(self, aec: AecSettings, detector: DetectorSettings, speaker: SpeakerControl,
                 vad_model: Path, events_maxsize: int = 64,
                 observer: Callable[[FrameTrace], None] | None = None) -> None:
        self.aec_settings, self.detector_settings = aec, detector
        self.canceller = EchoCanceller(aec)
        self.vad = SileroVad(vad_model)
        self.events: queue.Queue[Event] = queue.Queue(maxsize=events_maxsize)
        self.detector = BargeInDetector(detector, speaker, self._on_event, aec.frame_ms)
        frame_s = aec.frame_ms / 1000.0
        self.tracker = EchoLeakTracker(aec.erle_time_constant_s, frame_s, detector.initial_leak_db,
                                       detector.leak_deviations, detector.leak_min_spread_db)
        self._bands = BandSplitter(self.canceller.frame_samples)
        self.vad_input = VadInput(detector, frame_s, aec.erle_time_constant_s)
        # The far-end envelope falls no faster than a reverberant echo does.
        self._envelope_decay = 10 ** (-detector.echo_decay_db_per_s * frame_s / 10.0)
        self._far_envelope = np.zeros(len(BAND_EDGES_HZ) - 1)
        self._agent_floor = 10 ** (detector.agent_active_dbfs / 10.0)
        self._listeners: list[queue.Queue[AudioFrame]] = []
        self._observer = observer
        self.clock = StageClock()
        self._confirmations: queue.SimpleQueue[tuple[float, str]] = queue.SimpleQueue()
        self.samples_processed = 0
        self.dropped_frames = 0
        self.dropped_events = 0
        self._played_total = 0
        self._calibrate_until = 0
        self._held_mic = self._held_played = np.zeros(0, dtype=np.int16)
        self._held_t = 0.0
        self._held_realign = False

    def subscribe(self, maxsize: int = 100) -> queue.Queue[AudioFrame]:
        """A bounded queue that receives every cleaned period (oldest dropped when full)."""
        listener: queue.Queue[AudioFrame] = queue.Queue(maxsize=maxsize)
        self._listeners.append(listener)
        return listener

    def calibration_burst(self, seconds: float | None = None) -> np.ndarray:
        """The boot-time burst to play; the detector is held until its echo has died away.

        Call right before handing the samples to the speaker.
        """
        burst = calibration_burst(self.aec_settings.pretrain_s if seconds is None else seconds,
                                  self.aec_settings.pretrain_dbfs)
        slack = samples_for_ms(CALIBRATION_SLACK_MS)
        self._calibrate_until = self._played_total + len(burst) + slack
        return burst

    @property
    def calibrating(self) -> bool:
        return self._played_total < self._calibrate_until

    def confirm(self, t: float, source: str) -> None:
        """Push-to-talk or wake word while the agent speaks: an immediate cut.

        Callable from any thread (the conversation, a GPIO callback): the cut is
        applied by the loop's own thread at the start of its next period, so the
        detector is only ever touched by one thread and control never waits
        behind audio.
        """
        self._confirmations.put((t, source))

    def on_period(self, mic: np.ndarray, played: np.ndarray, t: float, delay_samples: int,
                  realign: bool) -> None:
        self.clock.period_wall_s = self.clock.period_cpu_s = 0.0
        while not self._confirmations.empty():
            self.detector.confirm(*self._confirmations.get_nowait())
        chunk = self._whole_frames(mic, played, t, realign)
        if chunk is None:
            return
        mic, played, t, realign = chunk
        with self.clock.stage("aec"):
            residual, reference = self.canceller.cancel(mic, played, delay_samples, realign)
        with self.clock.stage("suppress"):
            cleaned = self.canceller.suppress(residual)
        if self.calibrating and self._played_total + len(played) >= self._calibrate_until:
            log.info("echo canceller pre-trained: ERLE %s dB", self.tracker.erle_db)
        self._played_total += len(played)
        self.samples_processed += len(mic)
        step = self.canceller.frame_samples
        speech_probability = 0.0
        for start in range(0, len(mic), step):
            frame = slice(start, start + step)
            speech_probability = max(speech_probability, self._frame(
                t + start / SAMPLE_RATE_HZ, mic[frame], residual[frame], cleaned[frame], reference[frame]))
        if self.calibrating:   # the burst's residual is not a guest: nothing heard is speech
            speech_probability = 0.0
        frame = AudioFrame(samples=cleaned, t=t, speech_probability=speech_probability)
        for listener in self._listeners:
            self.dropped_frames += not _offer(listener, frame)

    def _whole_frames(self, mic: np.ndarray, played: np.ndarray, t: float, realign: bool
                      ) -> tuple[np.ndarray, np.ndarray, float, bool] | None:
        """Whole AEC frames of mic and played samples (a 20 ms frame spans two 10 ms periods).

        Mic and played stay paired sample by sample, so holding some back does
        not change their alignment; a realign is remembered until it is used.
        """
        step = self.canceller.frame_samples
        if not len(self._held_mic) and len(mic) % step == 0:
            return mic, played, t, realign
        if not len(self._held_mic):
            self._held_t = t
        self._held_mic = np.concatenate((self._held_mic, mic))
        self._held_played = np.concatenate((self._held_played, played))
        self._held_realign |= realign
        whole = len(self._held_mic) // step * step
        if whole == 0:
            return None
        chunk = (self._held_mic[:whole], self._held_played[:whole], self._held_t, self._held_realign)
        self._held_mic, self._held_played = self._held_mic[whole:], self._held_played[whole:]
        self._held_t += whole / SAMPLE_RATE_HZ
        self._held_realign = False
        return chunk

    def _frame(self, t: float, mic: np.ndarray, residual: np.ndarray, cleaned: np.ndarray,
               reference: np.ndarray) -> float:
        """One AEC frame through VAD and detector; returns the VAD's speech probability."""
        with self.clock.stage("vad"):
            probability = self.vad.accept(self.vad_input.choose(residual, cleaned))
        with self.clock.stage("detector"):
            # The canceller's own echo estimate (mic minus residual) follows the room's
            # reverberation within the filter; the envelope covers the tail beyond it.
            echo_estimate = mic.astype(np.int32) - residual
            far_bands = np.maximum(self._bands(echo_estimate), self._far_envelope * self._envelope_decay)
            self._far_envelope = far_bands
            cleaned_power = power(cleaned)
            evidence = FrameEvidence(t=t, vad_probability=probability, cleaned_power=cleaned_power,
                                     predicted_leak_power=self.tracker.predicted_leak(far_bands),
                                     agent_speaking=float(np.sum(far_bands)) > self._agent_floor)
            calibrating = self.calibrating
            speech = False if calibrating else self.detector.step(evidence)
            if (evidence.agent_speaking and not speech
                    and self.detector.state is DetectorState.QUIET):
                self.tracker.update(far_bands, self._bands(cleaned), power(mic), power(residual))
                if not calibrating:
                    self.vad_input.echo_frame(probability, self.tracker.erle_db)
        if self._observer is not None:
            self._observer(FrameTrace(t, probability, cleaned_power, evidence.predicted_leak_power,
                                      speech, self.detector.state, calibrating, residual, cleaned))
        return probability

    def _on_event(self, event: Event) -> None:
        self.dropped_events += not _offer(self.events, event)

    def close(self) -> None:
        """Free the canceller and the VAD; safe to call twice."""
        self.canceller.close()
        self.vad.close()

    def __enter__(self) -> FrontEnd:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()
