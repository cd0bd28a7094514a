"""Runs one bench scenario through the real pipeline, faster than real time.

Per scenario a fresh pipeline starts as the kiosk does at boot: a new
speaker queue, simulated room, echo canceller, VAD and detector, then the
calibration burst that pre-trains the canceller. Then the agent speaks the
scenario's text, the caller is placed in the room, and the duplex loop is
stepped one period at a time until the agent is done (or stopped for good).

Latency accounting: the room records what really reached the loudspeaker,
so the speaker queue and the device's output buffer are already in the
signal-derived latency. The loop runs synchronously, so the compute time of
the stages on the decision path (AEC, suppression, VAD, detector) is not in
the signal; the measured wall time of the period in which the duck (or the
cut) was decided is added to that latency.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from appliance.audio.loop import DuplexLoop
from appliance.audio.room import SimulatedRoom
from appliance.audio.speaker import Speaker
from appliance.audiofile import read_wav
from appliance.bench import metrics
from appliance.bench.agent import UtteranceCache, resumes_after_cut
from appliance.bench.report import ScenarioResult
from appliance.bench.scenario import Scenario
from appliance.config import Config
from appliance.detector import DetectorState
from appliance.frontend import FrameTrace, FrontEnd
from appliance.messages import SAMPLE_RATE_HZ, BargeIn, BargeInDuck

TAIL_S = 0.6            # keep running after the agent's last sample, seconds
SETTLE_S = 0.3          # silence between the calibration burst and the agent
MAX_WAIT_S = 8.0        # longest wait for the caller to fall silent after a cut


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


def _float(samples: np.ndarray) -> np.ndarray:
    return samples.astype(np.float64) / 32768.0


class ScenarioRun:
    """One scenario from boot to the end of the agent's utterance."""

    def __init__(self, scenario: Scenario, config: Config, cache: UtteranceCache,
                 vad_model) -> None:
        self.scenario = scenario
        self.config = config
        self.utterance = cache.get(scenario.agent_text)
        self.frames: list[FrameTrace] = []
        self.speaker = Speaker(config.audio)
        self.room = SimulatedRoom(scenario.room, config.audio)
        self.frontend = FrontEnd(config.aec, config.detector, self.speaker, vad_model,
                                 observer=self.frames.append)
        self.loop = DuplexLoop(self.room, self.speaker, self.frontend)
        self.period = self.room.period_samples
        self.decision_wall_ms: dict[str, float] = {}
        self.events: list[tuple[float, str]] = []
        self.cut_played: int | None = None

    def close(self) -> None:
        self.loop.close()
        self.frontend.close()
        self.room.close()

    def _step(self, periods: int = 1) -> None:
        for _ in range(periods):
            self.loop.step(1)
            while not self.frontend.events.empty():
                event = self.frontend.events.get_nowait()
                kind = {BargeInDuck: "duck", BargeIn: "cut"}.get(type(event), "restore")
                self.events.append((event.t, kind))
                self.decision_wall_ms.setdefault(kind, self.frontend.clock.period_wall_s * 1000)
                if isinstance(event, BargeIn) and self.cut_played is None:
                    self.cut_played = event.played_samples

    def _periods(self, seconds: float) -> int:
        return int(np.ceil(seconds * SAMPLE_RATE_HZ / self.period))

    def boot(self) -> None:
        """What the kiosk does at start-up: play the calibration burst to pre-train the AEC."""
        burst = self.frontend.calibration_burst()
        self.speaker.enqueue(burst, SAMPLE_RATE_HZ)
        self._step(self._periods(len(burst) / SAMPLE_RATE_HZ + SETTLE_S))

    def speak(self) -> int:
        """Start the agent; returns the sample (room timeline) where its first sample plays."""
        self.played_before = self.speaker.played_samples
        start = len(self.room.recordings.actual)
        self.speaker.enqueue(self.utterance.samples, SAMPLE_RATE_HZ)
        while True:  # the queue and the device buffer delay the first sample
            self._step()
            loud = np.flatnonzero(self.room.recordings.actual[start:])
            if len(loud):
                return start + int(loud[0])

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
        end = agent_start + len(self.utterance.samples)
        while len(self.room.recordings.actual) < end + TAIL_S * SAMPLE_RATE_HZ:
            self._step()
            if self.cut_played is not None:
                self._after_cut()
                return

    def _after_cut(self) -> None:
        waited = 0
        while (self.frontend.detector.state is DetectorState.CUT
               and waited < self._periods(MAX_WAIT_S)):
            self._step()
            waited += 1
        if not resumes_after_cut(self.scenario.caller_text):
            self._step(self._periods(TAIL_S * 2))
            return
        heard = self.cut_played - self.played_before
        remainder = self.utterance.samples[self.utterance.resume_sample(heard):]
        self.speaker.restore(0.0)
        self.speaker.enqueue(remainder, SAMPLE_RATE_HZ)
        self._step(self._periods(len(remainder) / SAMPLE_RATE_HZ + TAIL_S))


def run_scenario(scenario: Scenario, config: Config, cache: UtteranceCache, vad_model) -> RunOutput:
    run = ScenarioRun(scenario, config, cache, vad_model)
    try:
        run.boot()
        agent_start = run.speak()
        onset = run.place_caller(agent_start)
        run.converse(agent_start)
        return _measure(run, agent_start, onset)
    finally:
        run.close()


def _measure(run: ScenarioRun, agent_start: int, onset: int | None) -> RunOutput:
    recordings = run.room.recordings
    actual = _float(recordings.actual[agent_start:])
    planned = np.zeros_like(actual)
    speech = _float(run.utterance.samples)[: len(actual)]
    planned[: len(speech)] = speech
    mic = _float(recordings.mic[agent_start:])
    residual = _float(np.concatenate([f.residual for f in run.frames]))[agent_start:]
    cleaned = _float(np.concatenate([f.cleaned for f in run.frames]))[agent_start:]
    kind = run.scenario.kind
    onset_rel = None if onset is None else onset - agent_start
    timing = metrics.onset_timing(planned, actual, onset_rel or 0,
                                  run.decision_wall_ms.get("duck", 0.0),
                                  run.decision_wall_ms.get("cut", 0.0))
    lost = (None if timing.silence_sample is None else metrics.words_lost(
        planned, actual, timing.silence_sample, list(run.utterance.word_starts),
        list(run.utterance.word_ends)))
    ducked = timing.duck_ms is not None
    outcome = metrics.outcome(kind, timing, lost, ducked)
    recorded = (run.utterance.words_heard(run.cut_played - run.played_before)
                if run.cut_played is not None else len(run.utterance.word_ends))
    truth = metrics.words_heard_before(list(run.utterance.word_ends), timing.silence_sample)
    audio_s = len(recordings.mic) / SAMPLE_RATE_HZ
    result = ScenarioResult(
        name=run.scenario.name, kind=kind, outcome=outcome,
        onset_to_duck_ms=timing.duck_ms if kind != "echo-only" else None,
        onset_to_silence_ms=timing.silence_ms if kind != "echo-only" else None,
        heard_words_truth=truth, heard_words_recorded=recorded,
        erle_db=metrics.erle_db(mic, residual, planned, actual, onset_rel),
        agent_speech_s=run.utterance.seconds, audio_s=audio_s,
        frontend_cpu_s=run.frontend.clock.cpu_s,
    )
    traces = Traces(planned=planned, actual=actual, mic=mic, residual=residual, cleaned=cleaned,
                    frames=run.frames, events=run.events,
                    onset_s=None if onset_rel is None else onset_rel / SAMPLE_RATE_HZ,
                    frames_start_s=agent_start / SAMPLE_RATE_HZ)
    return RunOutput(result, traces)
