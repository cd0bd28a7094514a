"""`appliance sim`: a whole conversation in the simulated room with a scripted caller.

The real kiosk (every model, the echo canceller, the detector, the LLM) runs
against `SimulatedRoom` instead of a sound card, and a `CallerScheduler`
speaks the script's lines into the room when their triggers fire.

Time: without `--realtime` the room is stepped as fast as the machine allows,
but compute on the reply path is not free: while a reply is being generated
or synthesised, room time runs at the wall clock's pace (`RoomClock`), so
every latency in the events includes the real compute time of the stages on
the path. `latency` turns the events and the script's ground truth into
summary.json and latency.png.
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
from appliance.audio.room import RoomSettings, SimulatedRoom
from appliance.audiofile import write_wav
from appliance.config import Config
from appliance.levels import speech_span
from appliance.messages import SAMPLE_RATE_HZ, SpeechChunk, State
from appliance.runtime.latency import (
    PeriodTimes,
    TurnLatency,
    agent_speech_seconds,
    plot_latency,
    summary,
    turn_latencies,
    write_summary,
)
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
    summary: dict
    """What summary.json holds (`latency.summary`)."""
    turns: list[TurnLatency]
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
    """Run the whole scripted conversation; write events.jsonl, conversation.wav, timeline.png,
    summary.json and latency.png.

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
        clock = _drive(pipeline, scheduler, device, screen, realtime)
        history = pipeline.kiosk.conversation.messages
        screen_cpu_s = screen.server.cpu_seconds() if screen.server is not None else None
    device.close()
    speaker, mic = device.actual, device.mic
    write_wav(out_dir / "conversation.wav", np.stack([speaker, mic], axis=1))
    starts = [(s.start_sample / SAMPLE_RATE_HZ, s.line.text) for s in scheduler.spoken]
    plot_timeline(out_dir / "timeline.png", speaker, mic, records, starts)
    turns = turn_latencies(records, scheduler.spoken, speaker)
    figures = summary(records, scheduler.spoken, turns, agent_speech_seconds(speaker))
    figures["loop_period_ms"] = {
        when: {"p50": times.percentile(50), "p99": times.percentile(99), "n": len(times)}
        for when, times in clock.period_ms.items()}
    write_summary(out_dir / "summary.json", figures)
    plot_latency(out_dir / "latency.png", turns)
    return SimResult(out_dir, records, figures, turns, len(scheduler.skipped), history,
                     tuple(scheduler.spoken), screen.view.first_cut, screen_cpu_s)


class RoomClock:
    """Steps the pipeline period by period in room time, as fast as the machine allows,
    with compute on the reply path counted in room time.

    A reply's chunk is held until room time has passed the compute it took
    from the moment the reply was started (`Kiosk.hold_until_computed`), so
    a speculative answer started on a draft gets exactly the head start it
    would get in a real room, and a plain one waits for its compute. While the
    kiosk waits for a chunk still being made, the room does not run ahead (it
    would add latency that is not there). `realtime` paces the whole run to
    the wall clock (to watch the screen).
    """

    def __init__(self, pipeline: Pipeline, room: SimulatedRoom, realtime: bool = False) -> None:
        self._pipeline = pipeline
        self._room = room
        self._realtime = realtime
        self._wall_start = time.perf_counter()
        self._wait_s = pipeline.config.llm.timeout_s + 10.0
        pipeline.kiosk.hold_until_computed = True
        self.period_ms = {"otherwise": PeriodTimes(), "speculating": PeriodTimes()}
        """Wall time of the loop's work per period (front end, wake word), split by whether a
        speculative answer was being made meanwhile: the loop's headroom against its period."""

    @property
    def t(self) -> float:
        return self._room.samples_elapsed / SAMPLE_RATE_HZ

    def step(self) -> float:
        """One period: the loop, then the conversation thread's work; returns room time."""
        kiosk = self._pipeline.kiosk
        if kiosk.awaiting_speech and not self._realtime:
            kiosk.wait_for_speech(timeout=self._wait_s)
        started = time.perf_counter()
        self._pipeline.loop.step()
        spent_ms = (time.perf_counter() - started) * 1e3
        self.period_ms["speculating" if kiosk.speculating else "otherwise"].add(spent_ms)
        self._pipeline.pump()
        if self._realtime:  # pacing to the wall clock; nothing waits on this for correctness
            time.sleep(max(0.0, self.t - (time.perf_counter() - self._wall_start)))
        return self.t


def _drive(pipeline: Pipeline, scheduler: CallerScheduler, room: SimulatedRoom, screen: Screen,
           realtime: bool) -> RoomClock:
    clock = RoomClock(pipeline, room, realtime)

    def step() -> float:
        t = clock.step()
        for _ in range(screen.presses()):
            pipeline.kiosk.push_to_talk(t)
        screen.tick()
        scheduler.check(t, pipeline)
        return t

    calibration_s = pipeline.boot() / SAMPLE_RATE_HZ
    pipeline.wait_warm()
    t = 0.0
    while t < calibration_s + 0.5:
        t = step()
    done_at: float | None = None
    while t < MAX_SECONDS:
        t = step()
        kiosk = pipeline.kiosk
        settled = (scheduler.finished and not scheduler.caller_speaking
                   and kiosk.state in (State.IDLE, State.LISTENING)
                   and not pipeline.speaker.is_speaking)
        done_at = (done_at or t) if settled else None
        if done_at is not None and t - done_at >= QUIET_END_S:
            return clock
    return clock
