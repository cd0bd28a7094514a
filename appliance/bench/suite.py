"""Runs a whole scenario suite and writes the report (and optionally the figure).

A malformed scenario is reported as one line naming the file and key; the
others still run. A scenario that fails at run time (an unreadable WAV) is
reported the same way and never counted as a pass.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from appliance.bench.agent import UtteranceCache
from appliance.bench.report import build_report, write_report
from appliance.bench.runner import RunOutput, run_scenario
from appliance.bench.scenario import load_suite
from appliance.config import Config
from appliance.errors import ApplianceError
from appliance.listen.vad import MODEL_FILE
from appliance.models import require
from appliance.speech.tts import Synthesizer
from appliance.speech.wake import WakeWordDetector


@dataclass(frozen=True)
class SuiteRun:
    """The report (BENCH.md's keys) and the mean CPU per 10 ms period of each stage, ms."""

    report: dict
    cpu_ms_per_period: dict[str, float]


def run_suite(suite_dir: Path, config: Config, json_path: Path | None, plot_path: Path | None,
              say: Callable[[str], None] = print) -> SuiteRun:
    scenarios, problems = load_suite(suite_dir)
    errors = [str(problem) for problem in problems]
    for line in errors:
        say(line)
    vad_model = require(MODEL_FILE, config.models_dir())
    runs: list[RunOutput] = []
    wake = WakeWordDetector(config.wake, config.models_dir()) if config.wake.enabled else None
    # The agent's voice without piper's random noise (unless the config sets it):
    # the same suite then gives the same figures run after run.
    voice = dataclasses.replace(
        config.tts,
        noise_scale=0.0 if config.tts.noise_scale is None else config.tts.noise_scale,
        noise_w_scale=0.0 if config.tts.noise_w_scale is None else config.tts.noise_w_scale,
    )
    with Synthesizer(voice, config.models_dir()) as synthesizer:
        cache = UtteranceCache(synthesizer)
        for scenario in scenarios:
            try:
                output = run_scenario(scenario, config, cache, vad_model, wake)
            except ApplianceError as error:
                errors.append(f"{scenario.path}: {error}")
                say(errors[-1])
                continue
            runs.append(output)
            row = output.result.row()
            say(f"{row['name']:28} {row['kind']:12} {row['outcome']:10} duck {row['onset_to_duck_ms']} ms"
                f"  silence {row['onset_to_silence_ms']} ms  ERLE {row['erle_db']} dB")
    if wake is not None:
        wake.close()
    cpu = cpu_ms_per_period(runs)
    say("CPU per 10 ms period: " + ", ".join(f"{name} {ms:.3f} ms" for name, ms in cpu.items()))
    report = build_report([run.result for run in runs], errors)
    if json_path is not None:
        write_report(report, json_path)
    if plot_path is not None:
        from appliance.bench.plot import plot

        plot(runs, plot_path)
    return SuiteRun(report, cpu)


def with_engine(config: Config, engine: str | None) -> Config:
    """The config with `aec.engine` replaced, after checking that the engine is installed
    (a missing peer is one line naming the install step, before any scenario runs)."""
    from appliance.listen.aec.engine import check_engine

    if engine is not None:
        config = dataclasses.replace(config, aec=dataclasses.replace(config.aec, engine=engine))
    check_engine(config.aec.engine)
    return config


def cpu_ms_per_period(runs: list[RunOutput]) -> dict[str, float]:
    """Mean CPU time per 10 ms period of each always-on stage over the suite, milliseconds."""
    totals: dict[str, float] = {}
    periods = sum(run.periods for run in runs)
    for run in runs:
        for name, cost in run.stage_costs.items():
            totals[name] = totals.get(name, 0.0) + cost.cpu_s
    return {name: 1000.0 * cpu_s / max(periods, 1) for name, cpu_s in totals.items()}
