"""The bench report: per-scenario rows and the summary, with the keys of BENCH.md.

Unknown values are `None` (JSON `null`), never a made-up number. A malformed
scenario is listed under `errors`, never counted as a pass.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from appliance.runtime.latency import percentile


@dataclass(frozen=True)
class ScenarioResult:
    """One row of the report (the contract's keys) plus what the summary needs."""

    name: str
    kind: str
    outcome: str
    onset_to_duck_ms: float | None
    onset_to_silence_ms: float | None
    heard_words_truth: int | None
    heard_words_recorded: int | None
    erle_db: float | None
    agent_speech_s: float
    audio_s: float
    frontend_cpu_s: float

    def row(self) -> dict:
        return {
            "name": self.name, "kind": self.kind, "outcome": self.outcome,
            "onset_to_duck_ms": _round(self.onset_to_duck_ms),
            "onset_to_silence_ms": _round(self.onset_to_silence_ms),
            "heard_words_truth": self.heard_words_truth,
            "heard_words_recorded": self.heard_words_recorded,
            "erle_db": _round(self.erle_db),
        }


def _round(value: float | None) -> float | None:
    return None if value is None else round(float(value), 1)


def summarise(results: list[ScenarioResult]) -> dict:
    interrupts = [r for r in results if r.kind == "interrupt"]
    backchannels = [r for r in results if r.kind == "backchannel"]
    errors = [abs(r.heard_words_truth - r.heard_words_recorded) for r in results
              if r.heard_words_truth is not None and r.heard_words_recorded is not None]
    audio_s = sum(r.audio_s for r in results)
    return {
        "interrupt": {
            "n": len(interrupts),
            "stopped": sum(r.outcome == "stopped" for r in interrupts),
            "missed": sum(r.outcome == "missed" for r in interrupts),
            "p50_onset_to_duck_ms": percentile([r.onset_to_duck_ms for r in interrupts], 50),
            "p50_onset_to_silence_ms": percentile([r.onset_to_silence_ms for r in interrupts], 50),
            "p95_onset_to_silence_ms": percentile([r.onset_to_silence_ms for r in interrupts], 95),
        },
        "backchannel": {
            "n": len(backchannels),
            "resumed": sum(r.outcome == "resumed" for r in backchannels),
            "stopped": sum(r.outcome == "stopped" for r in backchannels),
        },
        "false_stops": sum(r.outcome == "false_stop" for r in results),
        "agent_speech_s": round(sum(r.agent_speech_s for r in results), 1),
        "max_truncation_error_words": max(errors) if errors else None,
        "median_erle_db": percentile([r.erle_db for r in results], 50),
        "frontend_rtf": (round(sum(r.frontend_cpu_s for r in results) / audio_s, 4)
                         if audio_s > 0 else None),
    }


def build_report(results: list[ScenarioResult], errors: list[str]) -> dict:
    report = {"scenarios": [r.row() for r in results], "summary": summarise(results)}
    if errors:
        report["errors"] = errors
    return report


def write_report(report: dict, path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(report, indent=2) + "\n")
