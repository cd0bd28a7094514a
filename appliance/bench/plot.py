"""The bench figures: a summary page, and one readable page per scenario.

`PLOT.png` is the summary: outcomes per group (kind, and within it linear vs
clipping/compressing loudspeaker), the onset → duck and onset → silence
histograms with the targets marked, and ERLE per scenario. Next to it,
`PLOT-scenarios/NAME.png` shows one scenario: its whole timeline (10 ms
levels of the planned and actual loudspeaker signal, the mic, the AEC
residual and the cleaned signal), a zoom on ±1 s around the caller's onset
with the detector's decisions, and the VAD probability under it.
Matplotlib with the Agg backend: no display needed.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from appliance.bench.metrics import frame_rms_db
from appliance.bench.runner import RunOutput

EVENT_COLOURS = {"duck": "tab:orange", "cut": "tab:red", "restore": "tab:green"}
OUTCOME_COLOURS = {"stopped": "tab:blue", "resumed": "tab:green", "continued": "0.6",
                   "missed": "tab:red", "false_stop": "darkred"}
GOOD = {"interrupt": "stopped", "backchannel": "resumed", "noise": "continued", "echo-only": "continued"}
DUCK_TARGET_MS, SILENCE_TARGET_MS = 80.0, 200.0
ZOOM_S = 1.0
SIGNALS = (("planned", dict(color="0.65", lw=2.2)), ("actual", dict(color="tab:blue", lw=1.0)),
           ("mic", dict(color="tab:purple", lw=0.7, alpha=0.7)),
           ("residual", dict(color="tab:brown", lw=0.8)), ("cleaned", dict(color="black", lw=0.8)))


def group_of(run: RunOutput) -> str:
    """Kind, split by whether the loudspeaker is non-linear (the hard rooms for a linear AEC)."""
    room = run.room
    nonlinear = room.speaker_clip > 0 or room.amp_compression > 1
    return f"{run.result.kind}{' (clipping)' if nonlinear else ''}"


def plot(runs: list[RunOutput], path: Path) -> None:
    """Write the summary page to `path` and one page per scenario beside it."""
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib import pyplot

    path.parent.mkdir(parents=True, exist_ok=True)
    figure = pyplot.figure(figsize=(14, 10))
    grid = figure.add_gridspec(2, 2, height_ratios=(1, 1))
    _outcomes(figure.add_subplot(grid[0, 0]), runs)
    _latencies(figure.add_subplot(grid[0, 1]), runs)
    _erle(figure.add_subplot(grid[1, :]), runs)
    figure.suptitle(f"barge-in bench: {len(runs)} scenarios", fontsize=13)
    figure.tight_layout()
    figure.savefig(path, dpi=90)
    pyplot.close(figure)
    pages = path.with_name(f"{path.stem}-scenarios")
    pages.mkdir(exist_ok=True)
    for run in runs:
        figure = _scenario_page(pyplot, run)
        figure.savefig(pages / f"{run.result.name}.png", dpi=80)
        pyplot.close(figure)


def _outcomes(axis, runs: list[RunOutput]) -> None:
    groups = sorted({group_of(run) for run in runs})
    bottoms = np.zeros(len(groups))
    for outcome, colour in OUTCOME_COLOURS.items():
        counts = np.array([sum(group_of(r) == g and r.result.outcome == outcome for r in runs)
                           for g in groups])
        if counts.any():
            axis.barh(groups, counts, left=bottoms, color=colour, label=outcome)
            bottoms += counts
    for index, group in enumerate(groups):
        members = [r for r in runs if group_of(r) == group]
        good = sum(r.result.outcome == GOOD[r.result.kind] for r in members)
        axis.text(bottoms[index] + 0.2, index, f"{good}/{len(members)} as expected", va="center", fontsize=9)
    axis.set_xlim(0, max(bottoms.max(initial=1) * 1.8, 1))
    axis.invert_yaxis()
    axis.set_xlabel("scenarios")
    axis.set_title("outcome per group")
    axis.legend(fontsize=8, loc="upper right")


def _latencies(axis, runs: list[RunOutput]) -> None:
    interrupts = [r.result for r in runs if r.result.kind == "interrupt"]
    duck = [r.onset_to_duck_ms for r in interrupts if r.onset_to_duck_ms is not None]
    silence = [r.onset_to_silence_ms for r in interrupts if r.onset_to_silence_ms is not None]
    top = max(duck + silence + [SILENCE_TARGET_MS * 1.5])
    bins = np.arange(0, top + 20, 20)
    axis.hist(duck, bins=bins, alpha=0.6, color="tab:orange", label=f"onset → duck (n={len(duck)})")
    axis.hist(silence, bins=bins, alpha=0.6, color="tab:red", label=f"onset → silence (n={len(silence)})")
    for value, colour, label in ((DUCK_TARGET_MS, "tab:orange", "duck p50 target"),
                                 (SILENCE_TARGET_MS, "tab:red", "silence p95 target")):
        axis.axvline(value, color=colour, ls="--", lw=1.2, label=label)
    for values, colour, name in ((duck, "tab:orange", "duck"), (silence, "tab:red", "silence")):
        if values:
            p50, p95 = np.percentile(values, 50), np.percentile(values, 95)
            axis.text(0.98, 0.55 if name == "duck" else 0.45, f"{name}: p50 {p50:.0f} ms, p95 {p95:.0f} ms",
                      transform=axis.transAxes, ha="right", color=colour, fontsize=9)
    axis.set_xlabel("milliseconds after the caller's onset (interrupt scenarios)")
    axis.set_ylabel("scenarios")
    axis.set_title("interrupt latencies")
    axis.legend(fontsize=8, loc="upper right")


def _erle(axis, runs: list[RunOutput]) -> None:
    rows = sorted((r for r in runs if r.result.erle_db is not None), key=lambda r: r.result.erle_db)
    colours = ["tab:red" if "clipping" in group_of(r) else "tab:blue" for r in rows]
    axis.bar(range(len(rows)), [r.result.erle_db for r in rows], color=colours)
    axis.set_xticks(range(len(rows)), [r.result.name for r in rows], rotation=70, fontsize=7, ha="right")
    axis.axhline(30, color="tab:blue", ls="--", lw=1, label="target, linear loudspeaker (30 dB)")
    axis.axhline(25, color="tab:red", ls="--", lw=1, label="target, clipping loudspeaker (25 dB)")
    axis.set_ylabel("ERLE, dB")
    axis.set_ylim(0, max([40.0] + [r.result.erle_db + 5 for r in rows]))
    axis.set_title("ERLE per scenario (agent-only stretches after 5 s); "
                   "red = clipping/compressing loudspeaker")
    axis.legend(fontsize=8, loc="upper left")


def _scenario_page(pyplot, run: RunOutput):
    traces, result = run.traces, run.result
    figure, (whole, zoom, vad) = pyplot.subplots(
        3, 1, figsize=(12, 8), gridspec_kw={"height_ratios": (2, 2, 1)})
    row = result.row()
    figure.suptitle(f"{result.name} ({result.kind}): {result.outcome}; duck {row['onset_to_duck_ms']} ms, "
                    f"silence {row['onset_to_silence_ms']} ms, ERLE {row['erle_db']} dB", fontsize=11)
    _levels(whole, traces)
    whole.set_title("whole run (10 ms RMS levels)", fontsize=9)
    whole.legend(loc="lower left", fontsize=7, ncol=6)
    _levels(zoom, traces)
    centre = traces.onset_s if traces.onset_s is not None else _first_event_s(traces)
    if centre is not None:
        zoom.set_xlim(centre - ZOOM_S, centre + ZOOM_S)
        vad.set_xlim(centre - ZOOM_S, centre + ZOOM_S)
        zoom.set_title("±1 s around the caller's onset", fontsize=9)
    else:
        zoom.set_title("(no caller, no decision: same as above)", fontsize=9)
    start = traces.frames_start_s
    frames = [f for f in traces.frames if f.t >= start]
    vad.plot([f.t - start for f in frames], [f.vad_probability for f in frames], color="tab:green", lw=0.8)
    vad.fill_between([f.t - start for f in frames], 0, [float(f.speech) for f in frames],
                     color="tab:orange", alpha=0.25, step="post", label="detector: caller speech")
    vad.set_ylim(0, 1.05)
    vad.set_ylabel("VAD p")
    vad.set_xlabel("seconds after the agent's first sample")
    vad.legend(loc="upper left", fontsize=7)
    for axis in (whole, zoom, vad):
        _marks(axis, traces)
    figure.tight_layout()
    return figure


def _levels(axis, traces) -> None:
    for name, style in SIGNALS:
        levels = frame_rms_db(getattr(traces, name))
        axis.plot(np.arange(len(levels)) * 0.01, levels, label=name, **style)
    axis.set_ylim(-90, 0)
    axis.set_ylabel("dBFS")


def _marks(axis, traces) -> None:
    if traces.onset_s is not None:
        axis.axvline(traces.onset_s, color="magenta", ls="--", lw=1.2)
    for t, kind in traces.events:
        axis.axvline(t - traces.frames_start_s, color=EVENT_COLOURS[kind], lw=1.0)
    top = axis.get_ylim()[1]
    for t, kind in traces.events:
        axis.text(t - traces.frames_start_s, top, kind, color=EVENT_COLOURS[kind], fontsize=7,
                  rotation=90, va="top", ha="right")


def _first_event_s(traces) -> float | None:
    return traces.events[0][0] - traces.frames_start_s if traces.events else None
