"""Bench measurements taken from signals only (BENCH.md), never from the detector's claims.

All arrays are float at 16 kHz on the speaker's timeline: index 0 is the
agent's first sample reaching the loudspeaker. `planned` is what would have
played with no caller, `actual` what the loudspeaker really played.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from appliance.levels import FRAME, frame_peak_db, frame_rms_db, speech_span, ten_ms_frames
from appliance.messages import SAMPLE_RATE_HZ

SILENCE_DBFS = -40.0
SILENCE_FRAMES = 10                    # 100 ms
DUCK_DB = 3.0
MISSED_MS = 1000.0
ERLE_SKIP_S = 5.0
RESUME_TOLERANCE_MS = 200.0


def first_speech_sample(caller: np.ndarray) -> int:
    """Start of the first 10 ms frame within 30 dB of the file's loudest frame."""
    return speech_span(caller)[0]


def duck_frame(planned: np.ndarray, actual: np.ndarray, onset_frame: int) -> int | None:
    """First frame at/after the onset whose actual RMS is > 3 dB below the planned RMS."""
    below = frame_rms_db(actual) < frame_rms_db(planned) - DUCK_DB
    hits = np.flatnonzero(below[onset_frame:])
    return onset_frame + int(hits[0]) if len(hits) else None


def silence_frames(planned: np.ndarray, actual: np.ndarray, start_frame: int) -> list[int]:
    """Frames where the plan speaks but the actual peak stays below -40 dBFS for the next 100 ms.

    The silence must begin where the agent would have been speaking: the quiet
    of the agent's own pause between sentences is no silence, even when the
    next word follows within 100 ms (a backchannel that lands in such a pause
    used to "stop" the agent 10 ms after its onset, and the resume check then
    took the ducked next word for the resumption). A cut inside a pause counts
    from the first frame the plan speaks again: before that nobody can tell.
    """
    quiet = frame_peak_db(actual) < SILENCE_DBFS
    planned_loud = frame_peak_db(planned) >= SILENCE_DBFS
    found = []
    for index in range(start_frame, len(quiet) - SILENCE_FRAMES + 1):
        if planned_loud[index] and quiet[index:index + SILENCE_FRAMES].all():
            found.append(index)
    return found


def resume_position(planned: np.ndarray, actual: np.ndarray, after: int) -> tuple[int, int] | None:
    """(actual sample, planned sample) where agent audio resumes after sample `after`, if it does.

    The planned position is found by cross-correlating 300 ms of the resumed
    audio against the plan, so a resume is judged by what was played.
    """
    loud = np.flatnonzero(frame_peak_db(actual)[after // FRAME:] >= SILENCE_DBFS)
    if not len(loud):
        return None
    start = (after // FRAME + int(loud[0])) * FRAME
    probe = actual[start: start + 3 * SAMPLE_RATE_HZ // 10]
    if len(probe) < FRAME or len(planned) < len(probe):
        return None
    size = 1 << int(np.ceil(np.log2(len(planned) + len(probe))))
    correlation = np.fft.irfft(np.fft.rfft(planned, size) * np.conj(np.fft.rfft(probe, size)), size)
    lag = int(np.argmax(correlation[: len(planned) - len(probe) + 1]))
    return start, lag


@dataclass(frozen=True)
class Timing:
    """Signal-derived event frames plus the modelled/compute latency to add, milliseconds."""

    duck_ms: float | None
    silence_ms: float | None
    silence_sample: int | None


def onset_timing(planned: np.ndarray, actual: np.ndarray, onset_sample: int,
                 duck_extra_ms: float, silence_extra_ms: float) -> Timing:
    onset_frame = onset_sample // FRAME
    duck = duck_frame(planned, actual, onset_frame)
    silences = silence_frames(planned, actual, onset_frame)
    silence = silences[0] if silences else None
    return Timing(
        duck_ms=None if duck is None else (duck - onset_frame) * 10.0 + duck_extra_ms,
        silence_ms=None if silence is None else (silence - onset_frame) * 10.0 + silence_extra_ms,
        silence_sample=None if silence is None else silence * FRAME,
    )


def words_heard_before(word_ends: list[int], sample: int | None) -> int:
    """Words whose last sample reached the speaker before `sample` (all when None)."""
    return len(word_ends) if sample is None else sum(end <= sample for end in word_ends)


def words_lost(planned: np.ndarray, actual: np.ndarray, silence_sample: int,
               word_starts: list[int], word_ends: list[int]) -> int | None:
    """Words never heard whole after a silence; None when the agent did not go on to finish.

    After the silence the agent either went on in place (a ducked passage was
    merely quiet), or resumed at some earlier point of the plan. It loses
    nothing when it restarts at or before the first unfinished word and then
    plays the rest of the plan to its end; if it never reaches the end (it
    was cut for good, perhaps later), it did not resume at all.
    """
    resumed = resume_position(planned, actual, silence_sample)
    if resumed is None:
        return None
    actual_at, planned_at = resumed
    planned_loud = np.flatnonzero(frame_peak_db(planned) >= SILENCE_DBFS)
    planned_end = (int(planned_loud[-1]) + 1) * FRAME if len(planned_loud) else len(planned)
    loud = np.flatnonzero(frame_peak_db(actual) >= SILENCE_DBFS)
    last_loud = (int(loud[-1]) + 1) * FRAME if len(loud) else 0
    tolerance = int(RESUME_TOLERANCE_MS * SAMPLE_RATE_HZ / 1000)
    if last_loud < actual_at + (planned_end - planned_at) - tolerance:
        return None
    if abs(actual_at - planned_at) <= FRAME:
        return 0
    unfinished = [i for i, end in enumerate(word_ends) if end > silence_sample]
    return sum(word_starts[i] < planned_at - FRAME for i in unfinished)


def erle_db(mic: np.ndarray, residual: np.ndarray, planned: np.ndarray, actual: np.ndarray,
            until_sample: int | None) -> float | None:
    """ERLE over agent-only stretches after the first 5 s of agent audio; None if there are none."""
    start = int(ERLE_SKIP_S * SAMPLE_RATE_HZ) // FRAME
    end = len(frame_rms_db(mic)) if until_sample is None else until_sample // FRAME
    agent = (frame_peak_db(planned) >= SILENCE_DBFS) & (
        np.abs(frame_rms_db(actual) - frame_rms_db(planned)) < 1.0)
    count = min(len(agent), len(frame_rms_db(mic)), len(frame_rms_db(residual)))
    selected = np.zeros(count, dtype=bool)
    selected[start:min(end, count)] = agent[start:min(end, count)]
    if not selected.any():
        return None
    mic_power = np.sum(ten_ms_frames(mic)[:count][selected] ** 2)
    residual_power = np.sum(ten_ms_frames(residual)[:count][selected] ** 2)
    return float(10 * np.log10((mic_power + 1e-12) / (residual_power + 1e-12)))


def outcome(kind: str, timing: Timing | None, lost: int | None, ducked: bool) -> str:
    """BENCH.md outcome from the measured timing and the resume check."""
    silenced = timing is not None and timing.silence_ms is not None
    if kind == "interrupt":
        if not silenced or timing.silence_ms > MISSED_MS:
            return "missed"
        return "resumed" if lost == 0 else "stopped"
    if silenced:
        if lost == 0:
            return "resumed"
        return "false_stop" if kind in ("noise", "echo-only") else "stopped"
    return "resumed" if ducked else "continued"
