"""The barge-in detector: a double-talk decision per frame and the yield state machine.

Silero alone cannot tell the caller from the agent's own echo (it is level
invariant and the residual of a canceller still sounds like speech), so a
frame counts as the caller's speech only if all three hold:

1. the VAD says speech (`vad_threshold`);
2. the cleaned signal is louder than the echo that could leak through it —
   the recent far-end power times the measured leak (echo path gain divided
   by ERLE and residual suppression) — by `double_talk_margin_db`;
3. it is above an absolute floor (`min_residual_dbfs`).

A duck is cheap and undone within a breath, a cut is not; and Silero takes
100 ms or more to commit on some word onsets ("rear", "stop"). So the onset
also accepts a *loud* frame — `onset_extra_margin_db` further above the
echo bound — on weaker VAD evidence (`onset_vad_threshold`); such frames
count towards the cut as well.

Real voices start softer than synthetic ones, and Silero's probability climbs
through 0.3 some 30-60 ms before it reaches 0.5 on a soft onset. Ducking is
cheap, so a frame that clears the echo bound by the full margin on that
weaker evidence (`duck_vad_threshold`) may duck the agent and keep it
ducked; it never counts towards the cut, which still needs speech. Off by
default (the threshold equals `vad_threshold`): at 0.3 the bench's loud-echo
interrupt ducked 100 ms sooner, but the sim's correction no longer cut.

Faster still, and independent of the VAD: a frame whose cleaned signal is
`duck_energy_margin_db` (15 dB) above the echo bound is duck evidence
whatever Silero says yet; the echo cannot explain it. On the tuning half it
ducked real and synthetic callers 10-100 ms sooner. Coughs, keys and doors
are loud too, so a duck entered on loudness alone (no onset evidence in its
run) is confirmed into a cut only by full speech frames (`vad_threshold`),
not by the loud-onset path: a cough ducks the agent for a moment and the
agent restores without losing a word.

States, following ARCHITECTURE.md: `quiet` → (speech for `onset_ms`, agent
speaking) duck → `ducked` → (speech adding up to `confirm_ms`) cut → `cut`;
`ducked` → (no speech for `release_ms`) restore → `quiet`; `cut` → (caller
silent for `release_ms`) `quiet`, re-armed. Push-to-talk or the wake word cut
at once. Speaker commands are immediate; events go to a callback that must
not block (the front end hands them to a bounded queue). The `BargeIn` event
of a cut is sent one frame later, once the speaker has applied the cut, so
that its `played_samples` no longer counts audio the cut took back from the
card.
"""

from __future__ import annotations

import enum
from collections.abc import Callable
from dataclasses import dataclass

from appliance.config import DetectorSettings
from appliance.levels import db
from appliance.messages import BargeIn, BargeInDuck, BargeInRelease, Event, SpeakerControl


class DetectorState(enum.Enum):
    QUIET = "quiet"
    DUCKED = "ducked"
    CUT = "cut"


@dataclass(frozen=True)
class FrameEvidence:
    """What the detector knows about one frame; powers are normalised (full scale = 1)."""

    t: float
    vad_probability: float
    cleaned_power: float
    predicted_leak_power: float
    agent_speaking: bool


def is_caller_speech(evidence: FrameEvidence, settings: DetectorSettings) -> bool:
    """The double-talk decision: speech-like, louder than any possible echo leak, not too quiet."""
    return _decide(evidence, settings, settings.vad_threshold, settings.double_talk_margin_db)


def is_caller_onset(evidence: FrameEvidence, settings: DetectorSettings) -> bool:
    """The onset decision: the full one, or a much louder frame on weaker VAD evidence."""
    return is_caller_speech(evidence, settings) or _decide(
        evidence, settings, settings.onset_vad_threshold,
        settings.double_talk_margin_db + settings.onset_extra_margin_db)


def is_duck_evidence(evidence: FrameEvidence, settings: DetectorSettings) -> bool:
    """Enough to duck (never to cut): the onset decision, the full margin on weaker VAD
    evidence, or a frame far above the echo bound whatever the VAD says yet."""
    return (is_caller_onset(evidence, settings)
            or _decide(evidence, settings, settings.duck_vad_threshold, settings.double_talk_margin_db)
            or _decide(evidence, settings, 0.0, settings.duck_energy_margin_db))


def _decide(evidence: FrameEvidence, settings: DetectorSettings, vad_threshold: float,
            margin_db: float) -> bool:
    level_db = db(evidence.cleaned_power)
    return (
        evidence.vad_probability >= vad_threshold
        and level_db >= db(evidence.predicted_leak_power) + margin_db
        and level_db >= settings.min_residual_dbfs
    )


class BargeInDetector:
    """Turns per-frame evidence into duck / cut / restore commands and events."""

    def __init__(self, settings: DetectorSettings, speaker: SpeakerControl,
                 on_event: Callable[[Event], None], frame_ms: float) -> None:
        self.settings = settings
        self._speaker = speaker
        self._emit = on_event
        self._frame_ms = frame_ms
        self.state = DetectorState.QUIET
        self._run_ms = 0.0       # consecutive duck evidence while quiet
        self._run_onset_ms = 0.0  # of which onset evidence (counts towards the cut)
        self._run_start = 0.0
        self._speech_ms = 0.0    # speech since the onset
        self._silence_ms = 0.0   # consecutive non-speech since the last speech
        self._loudness_duck = False  # ducked without any onset evidence (duck_energy_margin_db)
        self.onset_t: float | None = None
        self._unreported_cut: tuple[float, float, str] | None = None  # (t, onset_t, source)

    def step(self, evidence: FrameEvidence) -> bool:
        """Advance by one frame; returns the frame's double-talk decision."""
        self.report_cut()
        speech = is_caller_speech(evidence, self.settings)
        onset = speech or is_caller_onset(evidence, self.settings)
        duck = onset or is_duck_evidence(evidence, self.settings)
        self._silence_ms = 0.0 if duck else self._silence_ms + self._frame_ms
        if self.state is DetectorState.QUIET:
            self._quiet(evidence, duck, onset)
        elif self.state is DetectorState.DUCKED:
            # A duck on loudness alone (a cough, a door) is confirmed by the VAD's full evidence only.
            self._ducked(evidence, speech if self._loudness_duck else onset)
        elif self._silence_ms >= self.settings.release_ms:
            self._rearm()
        return onset

    def _quiet(self, evidence: FrameEvidence, duck: bool, onset: bool) -> None:
        if not (duck and evidence.agent_speaking):
            self._run_ms = self._run_onset_ms = 0.0
            return
        if self._run_ms == 0.0:
            self._run_start = evidence.t
        self._run_ms += self._frame_ms
        self._run_onset_ms += self._frame_ms if onset else 0.0
        if self._run_ms >= self.settings.onset_ms:
            self.state = DetectorState.DUCKED
            self.onset_t = self._run_start
            self._speech_ms = self._run_onset_ms  # duck-only evidence never counts towards the cut
            self._loudness_duck = self._run_onset_ms == 0.0
            self._speaker.duck(self.settings.duck_db, self.settings.duck_ramp_ms)
            self._emit(BargeInDuck(t=evidence.t, onset_t=self.onset_t))

    def _ducked(self, evidence: FrameEvidence, speech: bool) -> None:
        if speech:
            self._speech_ms += self._frame_ms
            if self._speech_ms >= self.settings.confirm_ms:
                self._cut(evidence.t, "speech")
        elif self._silence_ms >= self.settings.release_ms:
            self._speaker.restore(self.settings.restore_ramp_ms)
            self._emit(BargeInRelease(t=evidence.t, onset_t=self.onset_t or evidence.t))
            self._rearm()

    def confirm(self, t: float, source: str) -> None:
        """An external confirmation (push_to_talk, wake_word): cut now unless already cut."""
        if self.state is not DetectorState.CUT:
            self._silence_ms = 0.0
            self._cut(t, source)

    def _cut(self, t: float, source: str) -> None:
        onset = self.onset_t if self.state is DetectorState.DUCKED and self.onset_t is not None else t
        self.state = DetectorState.CUT
        self.onset_t = onset
        self._speaker.cut(None)
        self._unreported_cut = (t, onset, source)

    def report_cut(self) -> None:
        """Send the pending `BargeIn`, now that the speaker has applied the cut."""
        if self._unreported_cut is not None:
            t, onset, source = self._unreported_cut
            self._unreported_cut = None
            self._emit(BargeIn(t=t, onset_t=onset, played_samples=self._speaker.played_samples,
                               source=source))

    def _rearm(self) -> None:
        self.state = DetectorState.QUIET
        self._run_ms = self._run_onset_ms = self._speech_ms = 0.0
        self.onset_t = None
