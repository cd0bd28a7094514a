"""`appliance sim`: a whole conversation in the simulated room with a scripted caller.

The real kiosk (every model, the echo canceller, the detector, the LLM) runs
against `SimulatedRoom` instead of a sound card, and a `CallerScheduler`
speaks the script's lines into the room when their triggers fire.

Time: without `--realtime` the room is stepped as fast as the machine allows,
but compute on the reply path is not free. Whenever the agent has a reply in
progress and nothing to play yet, the driver waits for the LLM and TTS in
real time and then lets the same amount of room time pass (silence from the
agent, the caller's audio still flowing), so every latency in the events
includes the real compute time of the stages on the path.
"""

from __future__ import annotations

import dataclasses
import sys
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TextIO

import numpy as np

from appliance.agent.events import EventLog
from appliance.agent.history import Message
from appliance.agent.redact import KEEP_WORDS
from appliance.agent.vocabulary import Replan, StateChanged
from appliance.audio.room import RoomSettings, SimulatedRoom
from appliance.audiofile import write_wav
from appliance.config import Config
from appliance.levels import speech_span
from appliance.messages import SAMPLE_RATE_HZ, SpeechChunk, State
from appliance.runtime.pipeline import Pipeline
from appliance.runtime.screen.screen import Screen
from appliance.runtime.script import CallerLine, Script, speak
from appliance.runtime.timeline import ConsoleTimeline, caller_line, plot_timeline

SIM_ROOM = RoomSettings(echo_delay_ms=6.0, echo_gain_db=-2.0, rt60_s=0.3, speaker_clip=0.3,
                        noise="pink", noise_dbfs=-55.0, seed=7)
"""A small front-desk room: a loud, slightly clipping speaker close to the mic."""

MAX_SECONDS = 240.0
QUIET_END_S = 2.0
"""Keep running this long after the last line is answered."""


@dataclass
class SpokenLine:
    line: CallerLine
    start_sample: int
    speech_start: int
    speech_end: int


@dataclass
class CallerScheduler:
    """Plays the script's lines into the room, each when its trigger fires."""

    script: Script
    room: SimulatedRoom
    console: TextIO
    piper: Callable[[str], Iterable[SpeechChunk]]
    spoken: list[SpokenLine] = field(default_factory=list)
    skipped: list[CallerLine] = field(default_factory=list)
    _next: int = 0
    _silent_since: float | None = None
    _armed_at: float = 0.0      # when the previous line's speech ended, seconds
    _agent_spoke: bool = False  # the agent has spoken since the current line was armed

    @property
    def finished(self) -> bool:
        return self._next >= len(self.script.lines)

    @property
    def caller_speaking(self) -> bool:
        return bool(self.spoken) and self.room.samples_elapsed < self.spoken[-1].speech_end

    def check(self, t: float, pipeline: Pipeline) -> None:
        """Fire the next line if its trigger holds at room time `t`."""
        kiosk = pipeline.kiosk
        agent_quiet = kiosk.quiet and not pipeline.speaker.is_speaking
        self._silent_since = (self._silent_since or t) if agent_quiet else None
        if kiosk.state is State.SPEAKING:
            self._agent_spoke = True
        if self.finished or self.caller_speaking:
            return
        line = self.script.lines[self._next]
        if line.at_s is not None:
            due = t >= line.at_s
        elif line.after_agent_word is not None:
            if self._agent_spoke and agent_quiet and t - (self._silent_since or t) > 1.0:
                self._skip(line, t, "the agent finished before that word")
                return
            due = kiosk.words_played() >= line.after_agent_word
        else:
            quiet_since = max(self._silent_since or t, self._armed_at)
            due = agent_quiet and t - quiet_since >= line.delay_s
        if due:
            self._speak(line, t)

    def _skip(self, line: CallerLine, t: float, why: str) -> None:
        self.skipped.append(line)
        caller_line(t, line.text, f"skipped: {why}", self.console)
        self._next += 1
        self._agent_spoke = False

    def _speak(self, line: CallerLine, t: float) -> None:
        audio = speak(line, self.piper)
        audio = np.clip(audio * 10 ** (line.gain_db / 20.0), -32768, 32767).astype(np.int16)
        at = self.room.samples_elapsed
        first, last = speech_span(audio)
        self.room.add_caller(audio, at)
        self.spoken.append(SpokenLine(line, at, at + first, at + last))
        caller_line(t, line.text, line.expect, self.console)
        self._next += 1
        self._armed_at = (at + last) / SAMPLE_RATE_HZ
        self._agent_spoke = False


@dataclass(frozen=True)
class SimResult:
    out_dir: Path
    records: list[dict]
    replan_latencies_ms: list[float]
    answer_latencies_ms: list[float]
    skipped_lines: int
    history: tuple[Message, ...]
    spoken: tuple[SpokenLine, ...]
    """The caller's lines as placed in the room, with their speech spans: the ground truth."""
    first_cut_view: dict | None = None
    """What the screen showed right after the first barge-in cut (for screen.png)."""
    screen_cpu_s: float | None = None
    """CPU time of the screen's web server thread, when it served the page, seconds."""


def run_sim(config: Config, script: Script, out_dir: Path, *, realtime: bool = False,
            console: TextIO = sys.stdout, room: RoomSettings = SIM_ROOM) -> SimResult:
    """Run the whole scripted conversation; write events.jsonl, conversation.wav, timeline.png.

    With `[screen] enabled` the page is served while it runs (watch it with `realtime`).
    The caller is synthetic, so every word is kept (`KEEP_WORDS`), whatever
    `[privacy]` says; events.jsonl is appended to, like the service's.
    """
    config = dataclasses.replace(config, audio=dataclasses.replace(config.audio, backend="sim"))
    out_dir.mkdir(parents=True, exist_ok=True)
    device = SimulatedRoom(room, config.audio.period_ms, config.audio.periods)
    device.open()
    records: list[dict] = []    # the whole conversation, for the summary (the log keeps a window)
    with (EventLog(out_dir / "events.jsonl", KEEP_WORDS) as events,
          Pipeline(config, device, events) as pipeline,
          Screen(config.screen, pipeline, serve=config.screen.enabled) as screen):
        events.subscribe(ConsoleTimeline(console))
        events.subscribe(records.append)
        if screen.url:
            print(f"screen: {screen.url}", file=console, flush=True)
        scheduler = CallerScheduler(script, device, console, pipeline.tts.synthesize)
        _drive(pipeline, scheduler, device, screen, realtime)
        history = pipeline.kiosk.conversation.messages
        screen_cpu_s = screen.server.cpu_seconds() if screen.server is not None else None
    device.close()
    speaker, mic = device.actual, device.mic
    write_wav(out_dir / "conversation.wav", np.stack([speaker, mic], axis=1))
    starts = [(s.start_sample / SAMPLE_RATE_HZ, s.line.text) for s in scheduler.spoken]
    plot_timeline(out_dir / "timeline.png", speaker, mic, records, starts)
    return SimResult(out_dir, records, _latencies(records, scheduler, speaker, replans=True),
                     _latencies(records, scheduler, speaker, replans=False), len(scheduler.skipped),
                     history, tuple(scheduler.spoken), screen.view.first_cut, screen_cpu_s)


def _drive(pipeline: Pipeline, scheduler: CallerScheduler, room: SimulatedRoom, screen: Screen,
           realtime: bool) -> None:
    period_s = room.period_samples / SAMPLE_RATE_HZ
    wall_start = time.perf_counter()

    def step(feed: bool = True) -> float:
        pipeline.loop.step()
        pipeline.pump(feed=feed)
        t = room.samples_elapsed / SAMPLE_RATE_HZ
        for _ in range(screen.presses()):
            pipeline.kiosk.push_to_talk(t)
        screen.tick()
        scheduler.check(t, pipeline)
        if realtime:  # pace to the wall clock; nothing waits on this for correctness
            time.sleep(max(0.0, t - (time.perf_counter() - wall_start)))
        return t

    calibration_s = pipeline.boot() / SAMPLE_RATE_HZ
    t = 0.0
    while t < calibration_s + 0.5:
        t = step()
    done_at: float | None = None
    while t < MAX_SECONDS:
        kiosk = pipeline.kiosk
        if kiosk.awaiting_speech and not realtime:
            started = time.perf_counter()
            kiosk.wait_for_speech(timeout=pipeline.config.llm.timeout_s + 10.0)
            for _ in range(int((time.perf_counter() - started) / period_s)):
                t = step(feed=False)
        t = step()
        settled = (scheduler.finished and not scheduler.caller_speaking
                   and kiosk.state in (State.IDLE, State.LISTENING)
                   and not pipeline.speaker.is_speaking)
        done_at = (done_at or t) if settled else None
        if done_at is not None and t - done_at >= QUIET_END_S:
            return


def _latencies(records: list[dict], scheduler: CallerScheduler, speaker: np.ndarray,
               replans: bool) -> list[float]:
    """From the end of the caller's speech to the agent's next audible sample, ms.

    With `replans`, the answers to interruptions; otherwise every reply the
    agent started thinking about (questions, re-plans and resumes alike).
    """
    loud = np.abs(speaker.astype(np.int32)) > 300
    latencies = []
    for record in records:
        wanted = (record["event"] == Replan.name if replans
                  else record["event"] == StateChanged.name and record.get("state") == "thinking")
        if not wanted:
            continue
        sample = int(record["t"] * SAMPLE_RATE_HZ)
        line = next((s for s in reversed(scheduler.spoken) if s.speech_start <= sample), None)
        if line is None:
            continue
        following = np.flatnonzero(loud[sample:])
        if following.size:
            latencies.append((sample + int(following[0]) - line.speech_end) * 1000.0 / SAMPLE_RATE_HZ)
    return latencies
