"""Showing a conversation: the live console timeline and the timeline plot.

The console line per event says who is speaking, what was detected and when,
so a person watching `appliance sim` or `appliance run` can follow the turn
taking; the PNG puts both waveforms (speaker, microphone) under the events.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, TextIO

import numpy as np

from appliance.agent.redact import counted_name
from appliance.agent.vocabulary import (
    AgentCut,
    AgentDucked,
    AgentRestored,
    AgentSpeechEnd,
    AgentSpeechStart,
    BackchannelResume,
    FalseInterruptionResume,
    FinalTranscript,
    FirstClause,
    PartialTranscript,
    Ready,
    Replan,
    StageFailed,
    StateChanged,
    UserSpeechEnd,
    UserSpeechStart,
    Wake,
)
from appliance.messages import SAMPLE_RATE_HZ


def _said(record: dict[str, Any], field: str) -> str:
    """The quoted words, or what `[privacy]` left of them (a count and a kind)."""
    if field in record:
        return f"\u201c{record[field]}\u201d"
    kind = f", {record['kind']}" if "kind" in record else ""
    return f"({record.get(counted_name(field), '?')} words{kind})"


_LABELS = {
    Ready.name: ("kiosk", lambda r: "echo canceller trained; listening for the wake word"),
    Wake.name: ("wake", lambda r: "wake word heard"),
    UserSpeechStart.name: ("caller", lambda r: "starts speaking"),
    UserSpeechEnd.name: ("caller", lambda r: "stops speaking"),
    PartialTranscript.name: ("asr", lambda r: f"{_said(r, 'text')} \u2026"),
    FinalTranscript.name: ("asr", lambda r: _said(r, "text")),
    FirstClause.name: ("answer", lambda r: f"first clause after {r.get('latency_ms')} ms"),
    AgentSpeechStart.name: ("agent", lambda r: _said(r, "text")),
    AgentSpeechEnd.name: ("agent", lambda r: "done"),
    AgentDucked.name: ("detector", lambda r: f"onset at {r.get('onset_t')} s: duck"),
    AgentRestored.name: ("detector", lambda r: "not speech: volume restored"),
    AgentCut.name: ("detector", lambda r: f"CUT; caller heard {_said(r, 'heard_text')}"),
    BackchannelResume.name: ("agent", lambda r: f"backchannel: resumes {_said(r, 'resume_text')}"),
    FalseInterruptionResume.name: ("agent", lambda r: "false interruption: resumes"),
    Replan.name: ("agent", lambda r: "re-plans around the interruption"),
    StateChanged.name: ("state", lambda r: r.get("state", "")),
    StageFailed.name: ("error", lambda r: r.get("message", "")),
}


class ConsoleTimeline:
    """Prints one aligned line per event (state changes only with `verbose`)."""

    def __init__(self, stream: TextIO, verbose: bool = False) -> None:
        self._stream = stream
        self._verbose = verbose

    def __call__(self, record: dict[str, Any]) -> None:
        event = record["event"]
        if event == StateChanged.name and not self._verbose:
            return
        who, describe = _LABELS.get(event, (event, lambda r: ""))
        self._stream.write(f"{record['t']:8.2f}s  {who:9} {describe(record)}\n")
        self._stream.flush()


def caller_line(t: float, text: str, note: str, stream: TextIO) -> None:
    """The scripted caller starts a line (printed like an event)."""
    stream.write(f"{t:8.2f}s  {'CALLER':9} says \u201c{text}\u201d" + (f"  ({note})" if note else "") + "\n")
    stream.flush()


def plot_timeline(path: Path, speaker: np.ndarray, mic: np.ndarray,
                  records: list[dict[str, Any]], caller_starts: list[tuple[float, str]]) -> None:
    """Both waveforms with the events marked; written as a PNG."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    seconds = np.arange(max(len(speaker), len(mic))) / SAMPLE_RATE_HZ
    figure, (top, bottom) = plt.subplots(2, 1, figsize=(16, 6), sharex=True)
    top.plot(seconds[: len(speaker)], speaker / 32768.0, linewidth=0.3, color="tab:blue")
    top.set_ylabel("speaker")
    bottom.plot(seconds[: len(mic)], mic / 32768.0, linewidth=0.3, color="tab:green")
    bottom.set_ylabel("microphone")
    bottom.set_xlabel("seconds")
    colours = {AgentDucked.name: "orange", AgentCut.name: "red", Wake.name: "purple",
               Replan.name: "black", BackchannelResume.name: "teal", FalseInterruptionResume.name: "teal",
               AgentSpeechStart.name: "tab:blue", UserSpeechEnd.name: "tab:green"}
    for record in records:
        colour = colours.get(record["event"])
        if colour is None:
            continue
        for axis in (top, bottom):
            axis.axvline(record["t"], color=colour, linewidth=0.8, alpha=0.7)
        top.annotate(record["event"], (record["t"], 0.95), xycoords=("data", "axes fraction"),
                     rotation=90, fontsize=6, va="top", color=colour)
    for t, text in caller_starts:
        bottom.annotate(text, (t, 0.95), xycoords=("data", "axes fraction"), fontsize=7,
                        va="top", color="tab:green")
    figure.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    figure.savefig(path, dpi=110)
    plt.close(figure)
