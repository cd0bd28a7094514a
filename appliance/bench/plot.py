"""The bench figure: one row per scenario, plus the onset→silence histogram.

Each row shows the planned and actual loudspeaker signal, the mic, the AEC
residual and the cleaned signal (as 10 ms levels), the VAD probability on a
second axis, the ground-truth onset and the detector's duck/cut/restore
decisions. Matplotlib with the Agg backend: no display needed.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from appliance.bench.metrics import frame_rms_db
from appliance.bench.runner import RunOutput

EVENT_COLOURS = {"duck": "tab:orange", "cut": "tab:red", "restore": "tab:green"}


def _scenario_axes(axis, run: RunOutput) -> None:
    traces = run.traces
    seconds = np.arange(len(frame_rms_db(traces.actual))) * 0.01
    for signal, label, style in ((traces.planned, "planned", dict(color="0.6", lw=2.0)),
                                 (traces.actual, "actual", dict(color="tab:blue", lw=0.9)),
                                 (traces.mic, "mic", dict(color="tab:purple", lw=0.6, alpha=0.7)),
                                 (traces.residual, "residual", dict(color="tab:brown", lw=0.6)),
                                 (traces.cleaned, "cleaned", dict(color="black", lw=0.6))):
        levels = frame_rms_db(signal)
        count = min(len(levels), len(seconds))
        axis.plot(seconds[:count], levels[:count], label=label, **style)
    axis.set_ylim(-90, 0)
    axis.set_ylabel("dBFS")
    result = run.result
    row = result.row()
    axis.set_title(f"{result.name} ({result.kind}): {result.outcome}, duck {row['onset_to_duck_ms']} ms, "
                   f"silence {row['onset_to_silence_ms']} ms, ERLE {row['erle_db']} dB", fontsize=8)
    if traces.onset_s is not None:
        axis.axvline(traces.onset_s, color="magenta", ls="--", lw=1.2, label="onset")
    vad = axis.twinx()
    start = traces.frames_start_s
    frame_t = [f.t - start for f in traces.frames if f.t >= start]
    vad.plot(frame_t, [f.vad_probability for f in traces.frames if f.t >= start],
             color="tab:green", lw=0.5, alpha=0.6)
    vad.set_ylim(0, 1.05)
    vad.set_ylabel("VAD p", fontsize=7)
    for t, kind in traces.events:
        axis.axvline(t - start, color=EVENT_COLOURS[kind], lw=1.0)
        axis.text(t - start, -5, kind, color=EVENT_COLOURS[kind], fontsize=6, rotation=90, va="top")


def plot(runs: list[RunOutput], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib import pyplot

    rows = len(runs) + 1
    figure, axes = pyplot.subplots(rows, 1, figsize=(12, 2.4 * rows), squeeze=False)
    for axis, run in zip(axes[:-1, 0], runs, strict=True):
        _scenario_axes(axis, run)
    if runs:
        axes[0, 0].legend(loc="lower left", fontsize=6, ncol=6)
    silences = [r.result.onset_to_silence_ms for r in runs
                if r.result.kind == "interrupt" and r.result.onset_to_silence_ms is not None]
    histogram = axes[-1, 0]
    histogram.hist(silences, bins=20, color="tab:red")
    histogram.set_xlabel("onset → silence, ms (interrupt scenarios)")
    histogram.set_ylabel("scenarios")
    figure.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    figure.savefig(path, dpi=80)
    pyplot.close(figure)
