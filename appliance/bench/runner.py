"""Runs one bench scenario through the real pipeline, faster than real time.

Per scenario a fresh pipeline starts as the kiosk does at boot: a new
speaker queue, simulated room, echo canceller, VAD and detector, then the
calibration burst that pre-trains the canceller. Then the agent speaks the
scenario's text, the caller is placed in the room, and the duplex loop is
stepped one period at a time until the agent is done (or stopped for good).

The wake word listens to the cleaned frames as in the kiosk (a detection
while the agent speaks is an immediate cut), so its cost is part of the
front end's real-time factor along with AEC, suppression, VAD and detector.

Latency accounting: the room records what really reached the loudspeaker,
so the speaker queue and the device's output buffer are already in the
signal-derived latency. The loop runs synchronously, so the compute time of
the stages on the decision path (AEC, suppression, VAD, detector) is not in
the signal; the CPU time of the period in which the duck (or the cut) was
decided is added to that latency. CPU time, not wall time: on a shared
machine the wall time of one period includes however long the process was
preempted by others (up to 200 ms seen at a load of 17 on 2 cores), which
says nothing about the kiosk, whose loop runs at real-time priority.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from appliance.audio.loop import DuplexLoop
from appliance.audio.room import RoomSettings, SimulatedRoom
from appliance.audio.speaker import Speaker
from appliance.audiofile import read_wav
from appliance.bench import metrics
from appliance.bench.agent import UtteranceCache, resumes_after_cut
from appliance.bench.report import ScenarioResult
from appliance.bench.scenario import Scenario
from appliance.config import Config
from appliance.listen.detector import DetectorState
from appliance.listen.frontend import FrameTrace, FrontEnd, StageCost
from appliance.messages import SAMPLE_RATE_HZ, BargeIn, BargeInDuck, Event
from appliance.speech.wake import WakeWordDetector

TAIL_S = 0.6            # keep running after the agent's last sample, seconds
SETTLE_S = 0.3          # silence between the calibration burst and the agent
MAX_WAIT_S = 8.0        # longest wait for the caller to fall silent after a cut
EVENT_KINDS = {BargeInDuck: "duck", BargeIn: "cut"}


@dataclass
class Traces:
    """Signals and decisions of one run, on the speaker timeline from the agent's start."""

    planned: np.ndarray
    actual: np.ndarray
    mic: np.ndarray
    residual: np.ndarray
    cleaned: np.ndarray
    frames: list[FrameTrace] = field(default_factory=list)
    events: list[tuple[float, str]] = field(default_factory=list)
    onset_s: float | None = None
    frames_start_s: float = 0.0  # pipeline time (FrameTrace.t) of the agent's first sample


@dataclass(frozen=True)
class RunOutput:
    result: ScenarioResult
    traces: Traces
    stage_costs: dict[str, StageCost]
    periods: int
    room: RoomSettings


def _float(samples: np.ndarray) -> np.ndarray:
    return samples.astype(np.float64) / 32768.0


class ScenarioRun:
    """One scenario from boot to the end of the agent's utterance."""

    def __init__(self, scenario: Scenario, config: Config, cache: UtteranceCache,
                 vad_model: Path, wake: WakeWordDetector | None) -> None:
        self.scenario = scenario
        self.utterance = cache.get(scenario.agent_text)
        self.frames: list[FrameTrace] = []
        audio = config.audio
        self.room = SimulatedRoom(scenario.room, audio.period_ms, audio.periods,
                                  base_dir=scenario.path.parent)
        self.room.open()
        self.speaker = Speaker(self.room, audio)
        self.frontend = FrontEnd(config.aec, config.detector, self.speaker, vad_model,
                                 observer=self.frames.append)
        self.loop = DuplexLoop(self.room, self.speaker, self.frontend)
        self.wake = wake
        self.cleaned = self.frontend.subscribe(maxsize=8)
        if wake is not None:
            wake.reset()
        self.period = self.room.period_samples
        self.events: list[tuple[float, str, float]] = []  # (t, duck|cut|restore, CPU ms)
        self.cut_played: int | None = None
        self.duck_played: int | None = None  # speaker.played_samples at the last duck
        self.agent_played_at = 0  # speaker.played_samples of the utterance's first sample
        self._previous_cpu_ms = 0.0

    def close(self) -> None:
        self.loop.close()
        self.speaker.close()
        self.frontend.close()
        self.room.close()

    def _step(self, periods: int = 1) -> None:
        for _ in range(periods):
            self.loop.step()
            period_cpu_ms = self.frontend.clock.period_cpu_s * 1000.0
            self._listen_for_wake_word()
            while not self.frontend.events.empty():
                self._record(self.frontend.events.get_nowait(), period_cpu_ms)
            self._previous_cpu_ms = period_cpu_ms

    def _record(self, event: Event, period_cpu_ms: float) -> None:
        """Keep the event with the CPU time of the period that decided it."""
        kind = EVENT_KINDS.get(type(event), "restore")
        # A cut is reported one period after its decision (once the speaker applied it).
        self.events.append((event.t, kind, self._previous_cpu_ms if kind == "cut" else period_cpu_ms))
        if isinstance(event, BargeIn) and self.cut_played is None:
            self.cut_played = event.played_samples
        if isinstance(event, BargeInDuck) and self.cut_played is None:
            self.duck_played = self.speaker.played_samples

    def decision_cpu_ms(self, kind: str, after_t: float) -> float:
        """Compute time of the first `kind` decision at or after `after_t`; 0 if there was none."""
        return next((cpu_ms for t, k, cpu_ms in self.events if k == kind and t >= after_t), 0.0)

    def _listen_for_wake_word(self) -> None:
        while not self.cleaned.empty():
            frame = self.cleaned.get_nowait()
            if self.wake is None:
                continue
            with self.frontend.clock.stage("wake"):
                detection = self.wake.process(frame.samples, frame.t)
            if detection is not None:
                self.frontend.confirm(detection.t, "wake_word")

    def _periods(self, seconds: float) -> int:
        return int(np.ceil(seconds * SAMPLE_RATE_HZ / self.period))

    def _enqueue(self, samples: np.ndarray) -> int:
        """Queue agent audio on an idle speaker; returns the room sample where it starts to play."""
        at_sample = self.room.samples_elapsed + self.room.output_delay_samples
        self.speaker.enqueue_audio(samples, SAMPLE_RATE_HZ)
        return at_sample

    def boot(self) -> None:
        """What the kiosk does at start-up: play the calibration burst to pre-train the AEC."""
        burst = self.frontend.calibration_burst()
        self._enqueue(burst)
        self._step(self._periods(len(burst) / SAMPLE_RATE_HZ + SETTLE_S))

    def speak(self) -> int:
        """Start the agent's utterance; returns the room sample of its first sample."""
        self.agent_played_at = self.speaker.played_samples
        agent_start = self._enqueue(self.utterance.samples)
        self.room.plan(self.utterance.samples, agent_start)
        return agent_start

    def place_caller(self, agent_start: int) -> int | None:
        """Put the caller in the room so its first speech frame lands at caller_at_s."""
        if self.scenario.caller_audio is None:
            return None
        caller = read_wav(self.scenario.caller_audio)
        onset = agent_start + int(round(self.scenario.caller_at_s * SAMPLE_RATE_HZ))
        self.room.add_caller(caller, onset - metrics.first_speech_sample(caller))
        return onset

    def converse(self, agent_start: int) -> None:
        """Run until the agent is done; after a cut, apply the conversation's resume policy."""
        end = agent_start + len(self.utterance.samples) + TAIL_S * SAMPLE_RATE_HZ
        while self.room.samples_elapsed < end:
            self._step()
            if self.cut_played is not None:
                self._after_cut()
                return

    def _after_cut(self) -> None:
        """Wait for the caller to finish, then resume from the cut word or stay stopped."""
        waited = 0
        while (self.frontend.detector.state is DetectorState.CUT
               and waited < self._periods(MAX_WAIT_S)):
            self._step()
            waited += 1
        if not resumes_after_cut(self.scenario.caller_text):
            self._step(self._periods(TAIL_S * 2))
            return
        # Resume from the word that was playing when the agent ducked: a word that
        # ended under the duck was heard quietly at best, so it is said again.
        heard = min(self.cut_played, self.duck_played or self.cut_played) - self.agent_played_at
        remainder = self.utterance.samples[self.utterance.resume_sample(heard):]
        self._enqueue(remainder)
        self._step(self._periods(len(remainder) / SAMPLE_RATE_HZ + TAIL_S))


def run_scenario(scenario: Scenario, config: Config, cache: UtteranceCache,
                 vad_model: Path, wake: WakeWordDetector | None = None) -> RunOutput:
    run = ScenarioRun(scenario, config, cache, vad_model, wake)
    try:
        run.boot()
        agent_start = run.speak()
        onset = run.place_caller(agent_start)
        run.converse(agent_start)
        return _measure(run, agent_start, onset)
    finally:
        run.close()


def _measure(run: ScenarioRun, agent_start: int, onset: int | None) -> RunOutput:
    room = run.room
    length = room.samples_elapsed - agent_start
    actual = _float(room.actual[agent_start:])
    planned = _float(room.planned[agent_start:agent_start + length])
    mic = _float(room.mic[agent_start:])
    residual = _float(np.concatenate([f.residual for f in run.frames])[agent_start:])
    cleaned = _float(np.concatenate([f.cleaned for f in run.frames])[agent_start:])
    kind = run.scenario.kind
    onset_rel = None if onset is None else onset - agent_start
    onset_t = (onset or agent_start) / SAMPLE_RATE_HZ
    timing = metrics.onset_timing(planned, actual, onset_rel or 0,
                                  run.decision_cpu_ms("duck", onset_t),
                                  run.decision_cpu_ms("cut", onset_t))
    word_starts, word_ends = list(run.utterance.word_starts), list(run.utterance.word_ends)
    lost = (None if timing.silence_sample is None else
            metrics.words_lost(planned, actual, timing.silence_sample, word_starts, word_ends))
    outcome = metrics.outcome(kind, timing, lost, timing.duck_ms is not None)
    stopped = outcome in ("stopped", "false_stop", "missed") and timing.silence_sample is not None
    # A resumed utterance reached the speaker whole, and the conversation records it whole.
    recorded = (run.utterance.words_heard(run.cut_played - run.agent_played_at)
                if run.cut_played is not None and stopped else len(word_ends))
    truth = metrics.words_heard_before(word_ends, timing.silence_sample if stopped else None)
    result = ScenarioResult(
        name=run.scenario.name, kind=kind, outcome=outcome,
        onset_to_duck_ms=None if onset is None else timing.duck_ms,
        onset_to_silence_ms=None if onset is None else timing.silence_ms,
        heard_words_truth=truth,
        heard_words_recorded=recorded,
        erle_db=metrics.erle_db(mic, residual, planned, actual, onset_rel),
        agent_speech_s=run.utterance.seconds,
        audio_s=room.samples_elapsed / SAMPLE_RATE_HZ,
        frontend_cpu_s=run.frontend.clock.cpu_s,
    )
    traces = Traces(planned=planned, actual=actual, mic=mic, residual=residual, cleaned=cleaned,
                    frames=run.frames, events=[(t, kind) for t, kind, _ in run.events],
                    onset_s=None if onset_rel is None else onset_rel / SAMPLE_RATE_HZ,
                    frames_start_s=agent_start / SAMPLE_RATE_HZ)
    return RunOutput(result, traces, dict(run.frontend.clock.stages), run.loop.periods_done,
                     run.scenario.room)
