"""`appliance sim --soak HOURS`: a day at the desk, faster than real time.

The whole kiosk runs in the simulated room (as `appliance sim` does) through
a long varied conversation: the soak script's cycle of wake word, questions,
corrections that cut the agent, backchannels and thanks, with pauses of
seeded random length between cycles (silence, the room's noise only) and a
random caller level per cycle. Every `sample_every_s` of simulated time it
records turns, barge-ins, errors and lost turns so far, and the process's
RSS, threads and open file descriptors, so a leak shows as a trend.

A lost turn is a request the kiosk heard (a transcript that is neither empty
nor a backchannel) that got no reply before the caller spoke again.
"""

from __future__ import annotations

import dataclasses
import io
import json
import os
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from appliance.agent.backchannel import classify
from appliance.agent.events import EventLog
from appliance.agent.redact import KEEP_WORDS
from appliance.agent.vocabulary import (
    AgentCut,
    AgentSpeechEnd,
    AgentSpeechStart,
    FinalTranscript,
    StageFailed,
)
from appliance.audio.room import SimulatedRoom
from appliance.config import Config
from appliance.messages import SAMPLE_RATE_HZ, SpeechChunk
from appliance.runtime.pipeline import Pipeline
from appliance.runtime.script import Script, load_script
from appliance.runtime.sim import SIM_ROOM, CallerScheduler, RoomClock

SOAK_SCRIPT = Path(__file__).parent / "scripts" / "soak.toml"
PAUSE_S = (5.0, 90.0)
"""Silence between two cycles, seconds (uniform, seeded): long enough to go idle."""
CALLER_GAIN_DB = (-6.0, 6.0)
"""Caller level change per cycle, decibels (uniform, seeded)."""
CYCLE_LIMIT_S = 300.0
"""A cycle whose next line can never fire (its trigger needs speech that did not come)
is abandoned after this long, seconds of simulated time."""


@dataclass
class Sample:
    sim_s: float
    wall_s: float
    turns: int
    barge_ins: int
    errors: int
    lost_turns: int
    rss_mb: float
    threads: int
    fds: int


class Tally:
    """Counts from the event stream as it goes (the soak keeps no list of events)."""

    def __init__(self) -> None:
        self.turns = self.barge_ins = self.errors = self.lost_turns = 0
        self._awaiting_reply = False

    def __call__(self, record: dict) -> None:
        event = record["event"]
        if event == FinalTranscript.name:
            self.lost_turns += self._awaiting_reply
            self._awaiting_reply = classify(record.get("text", "")) == "request"
        elif event == AgentSpeechStart.name:
            self._awaiting_reply = False
        elif event == AgentSpeechEnd.name:
            self.turns += 1
        elif event == AgentCut.name:
            self.barge_ins += 1
        elif event == StageFailed.name:
            self.errors += 1


class CallerVoice:
    """The soak's caller lines in the kiosk's voice, each synthesised once.

    The caller stands for a person at the desk. Synthesising their lines again
    every cycle ran piper seven more times a cycle on the kiosk's own session
    (whose onnxruntime arena grows a little with each new input length), so the
    harness's work would count as the kiosk's memory and time. Measured, it made
    no visible difference to the RSS trend; it does make the soak faster. Cycles
    still differ in the caller's level and in the pauses.
    """

    def __init__(self, synthesize: Callable[[str], Iterable[SpeechChunk]]) -> None:
        self._synthesize = synthesize
        self._lines: dict[str, list[SpeechChunk]] = {}

    def __call__(self, text: str) -> list[SpeechChunk]:
        if text not in self._lines:
            self._lines[text] = list(self._synthesize(text))
        return self._lines[text]


def process_figures() -> tuple[float, int, int]:
    """RSS in MB, OS threads and open file descriptors of this process (from /proc)."""
    rss_kb = next(int(line.split()[1]) for line in Path("/proc/self/status").read_text().splitlines()
                  if line.startswith("VmRSS:"))
    return rss_kb / 1024.0, len(os.listdir("/proc/self/task")), len(os.listdir("/proc/self/fd"))


def run_soak(config: Config, hours: float, out_dir: Path, *, script: Script | None = None,
             sample_every_s: float = 300.0, seed: int = 0,
             say: Callable[[str], None] = print) -> list[Sample]:
    """Run `hours` of simulated time; writes soak.json and events.jsonl into `out_dir`."""
    config = dataclasses.replace(config, audio=dataclasses.replace(config.audio, backend="sim"))
    script = script or load_script(SOAK_SCRIPT)
    rng = np.random.default_rng(seed)
    out_dir.mkdir(parents=True, exist_ok=True)
    room = SimulatedRoom(SIM_ROOM, config.audio.period_ms, config.audio.periods)
    room.open()
    samples: list[Sample] = []
    report = out_dir / "soak.json"
    tally = Tally()
    wall_start = time.perf_counter()
    with (EventLog(out_dir / "events.jsonl", KEEP_WORDS) as events,
          Pipeline(config, room, events) as pipeline):
        events.subscribe(tally)
        end_s = hours * 3600.0

        def t() -> float:
            return room.samples_elapsed / SAMPLE_RATE_HZ

        clock = RoomClock(pipeline, room)
        caller_voice = CallerVoice(pipeline.tts.synthesize)

        def measure() -> None:
            rss, threads, fds = process_figures()
            samples.append(Sample(round(t(), 1), round(time.perf_counter() - wall_start, 1),
                                  tally.turns, tally.barge_ins, tally.errors, tally.lost_turns,
                                  round(rss, 1), threads, fds))
            report.write_text(json.dumps(   # after every sample: a soak cut short keeps its figures
                {"hours": hours, "seed": seed, "samples": [dataclasses.asdict(s) for s in samples]},
                indent=1) + "\n")
            say(f"soak {t() / 3600:5.2f} h  wall {samples[-1].wall_s / 60:6.1f} min  turns "
                f"{tally.turns}  barge-ins {tally.barge_ins}  errors {tally.errors}  lost "
                f"{tally.lost_turns}  RSS {rss:.1f} MB  threads {threads} (python "
                f"{threading.active_count()})  fds {fds}")

        burst_s = pipeline.boot() / SAMPLE_RATE_HZ
        pipeline.wait_warm()
        while t() < burst_s + 0.5:
            clock.step()
        measure()
        next_sample = sample_every_s
        while t() < end_s:
            gain = float(rng.uniform(*CALLER_GAIN_DB))
            lines = tuple(dataclasses.replace(line, gain_db=line.gain_db + gain, at_s=(
                None if line.at_s is None else t() + float(rng.uniform(*PAUSE_S))))
                for line in script.lines)
            scheduler = CallerScheduler(Script(script.path, lines), room, io.StringIO(),
                                        caller_voice)
            cycle_end = min(end_s, t() + PAUSE_S[1] + CYCLE_LIMIT_S)
            while t() < cycle_end and not (scheduler.finished and not scheduler.caller_speaking
                                           and pipeline.kiosk.quiet
                                           and not pipeline.speaker.is_speaking):
                clock.step()      # compute time passes in the room too (see sim.py)
                scheduler.check(t(), pipeline)
                if t() >= next_sample:
                    room.forget()
                    measure()
                    next_sample += sample_every_s
        measure()
    room.close()
    return samples


def summary(samples: list[Sample], warm_up_s: float = 600.0) -> str:
    """RSS growth after warm-up, thread and fd change, totals: the figures the issue asks for.

    A sample can catch a reply's worker thread alive, so beside first and last the
    thread count says how many samples after warm-up saw more threads than at
    warm-up: a leak climbs and stays, a worker comes and goes.
    """
    warm = next((s for s in samples if s.sim_s >= warm_up_s), samples[0])
    last = samples[-1]
    growth = 100.0 * (last.rss_mb - warm.rss_mb) / warm.rss_mb if warm.rss_mb else 0.0
    after = [s for s in samples if s.sim_s >= warm.sim_s]
    more = sum(s.threads > warm.threads for s in after)
    return (f"{last.sim_s / 3600:.2f} simulated hours in {last.wall_s / 60:.1f} min: "
            f"{last.turns} turns, {last.barge_ins} barge-ins, {last.errors} errors, "
            f"{last.lost_turns} lost turns; RSS {warm.rss_mb:.1f} -> {last.rss_mb:.1f} MB "
            f"({growth:+.1f} % after {warm.sim_s / 60:.0f} min warm-up); threads "
            f"{warm.threads} -> {last.threads} (max {max(s.threads for s in after)}, above "
            f"{warm.threads} in {more} of {len(after)} samples); fds {warm.fds} -> {last.fds}")


def load_samples(path: Path) -> list[Sample]:
    """The samples of a soak.json (also one still being written by a running soak)."""
    return [Sample(**sample) for sample in json.loads(path.read_text())["samples"]]


def table(samples: list[Sample], every_s: float = 1800.0) -> str:
    """A Markdown table of the samples `every_s` apart (and the last one): the README's.
    The soak's closing sample can fall on the same simulated second as the one before it;
    it is shown once."""
    rows, next_s = [], 0.0
    for index, sample in enumerate(samples):
        if rows and sample.sim_s == rows[-1].sim_s:
            continue
        if sample.sim_s + 1e-6 >= next_s or index == len(samples) - 1:
            rows.append(sample)
            next_s = (sample.sim_s // every_s + 1) * every_s
    lines = ["| simulated h | wall h | turns | barge-ins | errors | lost | RSS MB | threads | fds |",
             "| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |"]
    lines += [f"| {s.sim_s / 3600:.2f} | {s.wall_s / 3600:.2f} | {s.turns} | {s.barge_ins} | "
              f"{s.errors} | {s.lost_turns} | {s.rss_mb:.0f} | {s.threads} | {s.fds} |"
              for s in rows]
    return "\n".join(lines)


if __name__ == "__main__":  # python -m appliance.runtime.soak DIR/soak.json: the README's figures
    import sys

    figures = load_samples(Path(sys.argv[1]))
    print(summary(figures))
    print(table(figures))
