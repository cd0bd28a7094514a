"""Where the time of each caller's turn goes, from the script's ground truth.

`appliance sim` knows when each caller line really ends (`speech_end`: the
end of its last 10 ms frame within 30 dB of its loudest, in the room's
samples) and records what the speaker really played. A turn's latency runs
from that last word to the agent's next audible sample, including every bit
of compute on the way, and is split into:

- endpoint wait: until the kiosk decided the caller had finished (VAD hangover
  plus the silence the endpoint rule waits);
- ASR final: the recogniser's final decode after the endpoint;
- answer: retrieval (and the LLM's first clause) still running after the
  endpoint; a speculative answer started on the draft hides it;
- TTS first chunk: synthesis of the first chunk still running after that;
- audio buffer: from the chunk reaching the speaker queue to its first
  audible sample (queued periods, the card);
- other: what is left (scheduling on the conversation thread).

The compute parts come from the kiosk's `reply_timing` event (wall clock,
measured where they run); endpoint wait and audio buffer from room time.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, Protocol

import numpy as np

from appliance.agent.vocabulary import (
    AgentCut,
    AgentSpeechStart,
    BackchannelResume,
    Replan,
    ReplyTiming,
    StateChanged,
    UserSpeechEnd,
)
from appliance.levels import FRAME, ten_ms_frames
from appliance.messages import SAMPLE_RATE_HZ

AUDIBLE = 300
"""An int16 speaker sample above this is the agent's voice (not the fade's tail)."""
PARTS = ("endpoint_wait_ms", "asr_ms", "answer_ms", "tts_ms", "buffer_ms", "other_ms")


class SpokenSpan(Protocol):
    """A caller line as placed in the room (`sim.SpokenLine`)."""

    speech_start: int
    speech_end: int


@dataclass(frozen=True)
class TurnLatency:
    """One reply to a caller's turn: the whole latency and where it went, milliseconds."""

    t: float
    """When the kiosk started thinking, seconds of room time."""
    replan: bool
    """An answer to an interruption (else a reply to a turn the caller took)."""
    total_ms: float
    endpoint_wait_ms: float | None = None
    asr_ms: float | None = None
    answer_ms: float | None = None
    tts_ms: float | None = None
    buffer_ms: float | None = None
    other_ms: float | None = None
    speculative: bool | None = None


def turn_latencies(records: Sequence[dict[str, Any]], spoken: Sequence[SpokenSpan],
                   speaker: np.ndarray) -> list[TurnLatency]:
    """Every reply the agent started thinking about (questions, re-plans and resumes),
    measured from the end of the caller's line that led to it."""
    loud = np.abs(speaker.astype(np.int32)) > AUDIBLE
    turns = []
    for index, record in enumerate(records):
        if not (record["event"] == StateChanged.name and record.get("state") == "thinking"):
            continue
        sample = int(record["t"] * SAMPLE_RATE_HZ)
        line = next((s for s in reversed(spoken) if s.speech_start <= sample), None)
        following = np.flatnonzero(loud[sample:])
        if line is None or not following.size:
            continue
        first_sound = sample + int(following[0])
        total_ms = _ms(first_sound - line.speech_end)
        replan = _replanned(records, index)
        turns.append(_breakdown(records, index, line, first_sound, total_ms, replan))
    return turns


def _replanned(records: Sequence[dict[str, Any]], index: int) -> bool:
    """Whether the kiosk said "replan" in the same instant it started thinking."""
    t = records[index]["t"]
    for record in reversed(records[:index]):
        if record["t"] != t:
            return False
        if record["event"] == Replan.name:
            return True
    return False


def _breakdown(records: Sequence[dict[str, Any]], index: int, line: SpokenSpan,
               first_sound: int, total_ms: float, replan: bool) -> TurnLatency:
    t = records[index]["t"]
    start = next((i for i in range(index, len(records))
                  if records[i]["event"] == AgentSpeechStart.name), None)
    timing = records[start + 1] if start is not None and start + 1 < len(records) else None
    endpoint = next((r for r in reversed(records[:index]) if r["event"] == UserSpeechEnd.name), None)
    if start is None or endpoint is None or timing is None or timing["event"] != ReplyTiming.name:
        return TurnLatency(t, replan, total_ms)      # a resume: no endpoint on its path
    wait_ms = _ms(int(endpoint["t"] * SAMPLE_RATE_HZ) - line.speech_end)
    buffer_ms = _ms(first_sound - int(records[start]["t"] * SAMPLE_RATE_HZ))
    known = wait_ms + timing["asr_ms"] + timing["answer_ms"] + timing["tts_ms"] + buffer_ms
    return TurnLatency(t, replan, total_ms, wait_ms, timing["asr_ms"], timing["answer_ms"],
                       timing["tts_ms"], buffer_ms, round(total_ms - known, 1),
                       timing["speculative"])


def false_endpoints(records: Sequence[dict[str, Any]], spoken: Sequence[SpokenSpan]) -> int:
    """Endpoints the kiosk decided while the caller's line was still being spoken."""
    count = 0
    for record in records:
        if record["event"] != UserSpeechEnd.name:
            continue
        sample = int(record["t"] * SAMPLE_RATE_HZ)
        line = next((s for s in reversed(spoken) if s.speech_start <= sample), None)
        count += line is not None and sample < line.speech_end
    return count


def summary(records: Sequence[dict[str, Any]], spoken: Sequence[SpokenSpan],
            turns: Sequence[TurnLatency], agent_speech_s: float) -> dict[str, Any]:
    """`summary.json`: the figures a run of the sim is judged by (docs/architecture.md)."""
    def count(name: str) -> int:
        return sum(record["event"] == name for record in records)

    return {
        "replan_latency_ms": [turn.total_ms for turn in turns if turn.replan],
        "reply_latency_ms": [turn.total_ms for turn in turns],
        "barge_ins": count(AgentCut.name),
        "replans": count(Replan.name),
        "backchannels_resumed": count(BackchannelResume.name),
        "false_endpoints": false_endpoints(records, spoken),
        "agent_speech_s": round(agent_speech_s, 2),
        "caller_turns": len(spoken),
        "turns": [asdict(turn) for turn in turns],
        "breakdown_p50_ms": {part: _median(turns, part) for part in PARTS},
    }


def write_summary(path: Path, figures: dict[str, Any]) -> None:
    path.write_text(json.dumps(figures, indent=1) + "\n", encoding="utf-8")


def _median(turns: Sequence[TurnLatency], part: str) -> float | None:
    return percentile([getattr(turn, part) for turn in turns], 50)


def percentile(values: Sequence[float | None], q: float, digits: int = 1) -> float | None:
    """The q-th percentile of the known `values` (None: not measured), rounded; None when
    none is known. The one rule for the sim's, the evaluations' and the bench's figures."""
    known = [value for value in values if value is not None]
    return round(float(np.percentile(known, q)), digits) if known else None


class PeriodTimes:
    """Work per audio period in a histogram of fixed size: a day of periods costs no memory.

    A list of every period's time grew by 11-12 MB per simulated hour (360 000
    Python floats) and was the whole of the soak's RSS trend. Bins are
    `BIN_MS` wide up to `LIMIT_MS`; a longer period counts in the last bin and
    in `max_ms`, so a percentile above the limit reads as the limit.
    """

    BIN_MS = 0.01
    LIMIT_MS = 100.0

    def __init__(self) -> None:
        self._counts = np.zeros(int(round(self.LIMIT_MS / self.BIN_MS)), dtype=np.int64)
        self.max_ms = 0.0

    def __len__(self) -> int:
        return int(self._counts.sum())

    def add(self, ms: float) -> None:
        self._counts[min(int(ms / self.BIN_MS), self._counts.size - 1)] += 1
        self.max_ms = max(self.max_ms, ms)

    def percentile(self, q: float, digits: int = 2) -> float | None:
        """The q-th percentile to the bin's upper edge (`BIN_MS`); None when nothing was added."""
        total = len(self)
        if not total:
            return None
        index = int(np.searchsorted(np.cumsum(self._counts), q / 100.0 * total))
        return round(min((index + 1) * self.BIN_MS, self.max_ms), digits)


def agent_speech_seconds(speaker: np.ndarray) -> float:
    """Seconds of the speaker's output that are the agent's voice (10 ms frames)."""
    peaks = np.abs(ten_ms_frames(speaker)).max(axis=1)
    return float(np.count_nonzero(peaks > AUDIBLE)) * FRAME / SAMPLE_RATE_HZ


def plot_latency(path: Path, turns: Sequence[TurnLatency]) -> None:
    """latency.png: one stacked bar per reply, coloured by where its time went."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    labels = {"endpoint_wait_ms": "endpoint wait", "asr_ms": "ASR final", "answer_ms": "answer",
              "tts_ms": "TTS first chunk", "buffer_ms": "audio buffer", "other_ms": "other"}
    figure, axis = plt.subplots(figsize=(10, 1.2 + 0.35 * max(1, len(turns))))
    rows = np.arange(len(turns))
    for turn_index, turn in enumerate(turns):
        if turn.endpoint_wait_ms is None:       # a resume: only the whole
            axis.barh(turn_index, turn.total_ms, color="lightgrey", edgecolor="grey")
    left = np.zeros(len(turns))
    for colour, part in zip(("tab:green", "tab:purple", "tab:orange", "tab:red", "tab:blue",
                             "lightgrey"), PARTS, strict=True):
        widths = np.array([max(0.0, getattr(t, part) or 0.0) for t in turns])
        axis.barh(rows, widths, left=left, color=colour, label=labels[part])
        left += widths
    axis.set_yticks(rows, [f"{'re-plan' if t.replan else 'reply'} @ {t.t:.1f} s"
                           + (" (spec.)" if t.speculative else "") for t in turns], fontsize=7)
    axis.invert_yaxis()
    axis.axvline(500, color="black", linestyle=":", linewidth=0.8)
    axis.set_xlabel("milliseconds from the caller's last word to the agent's first sound")
    axis.legend(fontsize=7, ncols=3, loc="lower right")
    figure.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    figure.savefig(path, dpi=110)
    plt.close(figure)


def _ms(samples: int) -> float:
    return round(samples * 1000.0 / SAMPLE_RATE_HZ, 1)
