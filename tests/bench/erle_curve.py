"""ERLE over the first seconds after boot, for the closing note (a measurement, not a test).

    .venv/bin/python tests/bench/erle_curve.py [tests/bench/suite/echo-default.toml] [seconds]

Boots a fresh pipeline in the scenario's room exactly as the bench does
(calibration burst, then the agent's text, repeated until `seconds`), and
prints every 0.5 s since boot: the front end's run-time ERLE estimate and the
ERLE measured from signals over that half second (mic vs. linear residual,
only where the loudspeaker played).
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np

from appliance.bench.agent import UtteranceCache
from appliance.bench.runner import ScenarioRun
from appliance.bench.scenario import load_scenario
from appliance.config import Config
from appliance.listen.vad import MODEL_FILE
from appliance.models import require
from appliance.speech.tts import Synthesizer

HALF_SECOND = 8000


def main(path: Path, seconds: float) -> None:
    config = Config()
    scenario = load_scenario(path)
    with Synthesizer(config.tts, config.models_dir()) as synthesizer:
        run = ScenarioRun(scenario, config, UtteranceCache(synthesizer),
                          require(MODEL_FILE, config.models_dir()), wake=None)
        try:
            curve = _measure(run, seconds)
        finally:
            run.close()
    print(f" t_s  runtime_erle_db  signal_erle_db  (burst ends at {config.aec.pretrain_s:.1f} s)")
    for t, runtime, signal in curve:
        runtime_text = "    -" if runtime is None else f"{runtime:5.1f}"
        signal_text = "    -" if signal is None else f"{signal:5.1f}"
        print(f"{t:4.1f}  {runtime_text:>15}  {signal_text:>14}")


def _measure(run: ScenarioRun, seconds: float) -> list[tuple[float, float | None, float | None]]:
    run.speaker.enqueue_audio(run.frontend.calibration_burst(), 16000)
    curve = []
    while run.room.samples_elapsed < seconds * 16000:
        if not run.speaker.is_speaking and not run.frontend.calibrating:
            run.speak()
        run.loop.run_periods(HALF_SECOND // run.period)
        end = run.room.samples_elapsed
        block = slice(end - HALF_SECOND, end)
        mic = run.room.mic[block].astype(np.float64)
        residual = np.concatenate([f.residual for f in run.frames])[block].astype(np.float64)
        playing = np.abs(run.room.actual[block].astype(np.float64)).max() > 300
        signal = (10 * np.log10(np.sum(mic**2) / max(np.sum(residual**2), 1.0))
                  if playing else None)
        curve.append((end / 16000, run.frontend.tracker.erle_db, signal))
    return curve


if __name__ == "__main__":
    default = Path(__file__).resolve().parent / "suite" / "echo-default.toml"
    main(Path(sys.argv[1]) if len(sys.argv) > 1 else default,
         float(sys.argv[2]) if len(sys.argv) > 2 else 10.0)
