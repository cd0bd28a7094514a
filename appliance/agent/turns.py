"""Turn-taking: the kiosk's state machine from ARCHITECTURE.md.

idle (wake word, push-to-talk) → listening → thinking → speaking → yielding →
listening. `Kiosk` is driven from one conversation thread, one period at a
time: `on_frame()` with each cleaned frame from the front end,
`on_detector_event()` with each barge-in decision, and `tick()` to hand
synthesised speech to the speaker. The slow work (LLM, TTS) runs in a
`Reply` worker; the duplex loop never waits on any of it.

While speaking, an onset (duck) starts the recogniser on the audio from just
before the onset (pre-roll), so the caller's first syllable is not lost. A
confirmed barge-in cancels the reply, flushes every queued sample and cuts the
assistant's turn to the words the caller heard; what the caller said then
decides: a bare backchannel resumes the sentence from the cut word, nothing
recognisable resumes it too (a false interruption), anything else re-plans.
"""

from __future__ import annotations

import logging
import queue
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass

import numpy as np

from appliance.agent.backchannel import classify
from appliance.agent.events import EventLog
from appliance.agent.history import ChunkPlacement, Conversation, HeardCut, split_heard
from appliance.agent.reply import END, Reply
from appliance.agent.vocabulary import (
    AgentCut,
    AgentDucked,
    AgentRestored,
    AgentSpeechEnd,
    AgentSpeechStart,
    BackchannelResume,
    ConversationEvent,
    FalseInterruptionResume,
    FinalTranscript,
    FirstClause,
    PartialTranscript,
    Replan,
    StageFailed,
    StateChanged,
    UserSpeechEnd,
    UserSpeechStart,
    Wake,
)
from appliance.audio.speaker import Speaker
from appliance.config import Config
from appliance.messages import (
    SAMPLE_RATE_HZ,
    AudioFrame,
    BargeIn,
    BargeInDuck,
    BargeInRelease,
    Event,
    SpeechChunk,
    State,
    Transcript,
)
from appliance.speech.asr import PreRoll, Recognizer
from appliance.speech.clauses import split_clauses

log = logging.getLogger(__name__)

SPEECH_START_MS = 60.0
"""VAD speech that opens an utterance while listening, milliseconds."""
YIELD_WAIT_S = 1.5
"""After a cut by push-to-talk or wake word, how long to wait for words, seconds."""
REPLY_GRACE_S = 2.0
"""Beyond `llm.timeout_s`, how long a reply may stay silent before the kiosk gives up on
it. The LLM's own deadline aborts a slow decode; this catches a source that never
returns at all (a hung library call), so the caller still hears the fallback."""


@dataclass(frozen=True)
class Voice:
    """What the kiosk speaks with: the LLM's clause stream, TTS, and how to stop them."""

    clauses: Callable[[Conversation], Iterable[str]]
    synthesize: Callable[[str], SpeechChunk]
    cancel_llm: Callable[[], None]
    system_prompt: str | None = None
    """The conversation's system prompt; None = the config's `llm.system_prompt` as written."""


class Kiosk:
    """The conversation: owns the turn state, the history and the reply in progress."""

    def __init__(self, config: Config, *, speaker: Speaker, confirm: Callable[[float, str], None],
                 recognizer: Recognizer, voice: Voice, events: EventLog,
                 wake: Callable[[np.ndarray, float], object | None] | None = None) -> None:
        self._config = config
        self._speaker = speaker
        self._confirm = confirm
        self._recognizer = recognizer
        self._voice = voice
        self._events = events
        self._wake = wake
        self._system_prompt = (config.llm.system_prompt if voice.system_prompt is None
                               else voice.system_prompt)
        self._forget_the_guest()
        self.state = State.IDLE
        self._t = 0.0
        self._preroll = PreRoll(config.asr.preroll_ms)
        self._reply: Reply | None = None
        self._pending: SpeechChunk | None = None
        self._reply_text: list[str] = []
        self._placements: list[ChunkPlacement] = []
        self._reply_done = False
        self._resuming = False
        self._first_token_reported = False
        self._utterance_open = False   # the recogniser is hearing an utterance
        self._partial_text = ""        # the last partial transcript reported
        self._speech_run_ms = 0.0      # VAD speech so far while waiting for an utterance
        self._silence_ms = 0.0         # VAD silence since the utterance's last speech
        self._candidate = False        # utterance opened by a barge-in onset, not yet confirmed
        self._cut_t = 0.0
        self._cut: HeardCut | None = None
        self._listen_until = 0.0
        self._state_listeners: list[Callable[[State], None]] = []
        self._placement_listeners: list[Callable[[ChunkPlacement], None]] = []

    # -- inputs ----------------------------------------------------------------
    def on_state(self, listener: Callable[[State], None]) -> None:
        """Call `listener` with every new state (LED, systemd STATUS=)."""
        self._state_listeners.append(listener)

    def on_placed(self, listener: Callable[[ChunkPlacement], None]) -> None:
        """Call `listener` with every chunk of a reply the speaker accepted (the screen's
        captions: its words and the played-sample index where they start)."""
        self._placement_listeners.append(listener)

    def push_to_talk(self, t: float) -> None:
        """A button press: starts listening when idle, cuts the agent when it speaks."""
        if self.state is State.SPEAKING:
            self._confirm(t, "push_to_talk")
        elif self.state is State.IDLE:
            self._start_listening(t, self._config.llm.follow_up_s)

    def on_frame(self, frame: AudioFrame) -> None:
        """One cleaned period from the front end, carrying its VAD speech probability."""
        self._t = frame.t + len(frame.samples) / SAMPLE_RATE_HZ
        if self.state in (State.IDLE, State.SPEAKING):
            self._listen_for_wake(frame)
        if self.state in (State.LISTENING, State.YIELDING) or self._candidate:
            try:
                self._hear(frame, frame.speech_probability >= self._config.detector.vad_threshold)
            except Exception as error:  # noqa: BLE001 - a failed recogniser ends the turn, not the kiosk
                self._turn_failed("asr", error)
        else:
            self._preroll.push(frame.samples)

    def on_detector_event(self, event: Event) -> None:
        """A decision of the barge-in detector (only barge-ins on the agent's speech matter)."""
        if self.state is not State.SPEAKING:
            return
        if isinstance(event, BargeInDuck):
            self._emit(AgentDucked(onset_t=round(event.onset_t, 3)))
            try:
                self._start_candidate(event.onset_t)
            except Exception as error:  # noqa: BLE001 - the agent keeps speaking without the recogniser
                self._candidate = self._utterance_open = False
                self._emit(StageFailed(stage="asr", message=_describe(error)))
        elif isinstance(event, BargeInRelease):
            self._emit(AgentRestored(onset_t=round(event.onset_t, 3)))
            self._candidate = self._utterance_open = False
        elif isinstance(event, BargeIn):
            self._barge_in(event)

    def tick(self) -> None:
        """Move synthesised speech to the speaker and notice when the agent is done."""
        if (self.state is State.LISTENING and not self._utterance_open
                and self._t > self._listen_until):
            self._forget_the_guest()
            self._set_state(State.IDLE)
        if self._reply is None:
            return
        if self.state is State.THINKING and self._reply_overdue():
            self._give_up_on_reply()
            return
        if not self._first_token_reported and self._reply.first_clause_at is not None:
            self._first_token_reported = True
            self._emit(FirstClause(
                       latency_ms=round((self._reply.first_clause_at - self._reply.started_at) * 1e3)))
        self._feed_speaker()
        if self._reply_done and not self._speaker.is_speaking and self.state is State.SPEAKING:
            self._finish_reply()

    # -- listening -------------------------------------------------------------
    def _listen_for_wake(self, frame: AudioFrame) -> None:
        if self._wake is None:
            return
        if self._wake(frame.samples, frame.t) is None:   # scores each whole 80 ms frame
            return
        self._emit(Wake())
        if self.state is State.SPEAKING:
            self._confirm(self._t, "wake_word")
        else:
            self._start_listening(self._t, self._config.llm.follow_up_s)

    def _start_listening(self, t: float, for_s: float) -> None:
        """Wait for the caller to speak; the utterance opens on sustained VAD speech.

        A barge-in candidate still open (a duck just before the agent finished)
        is over too: the detector says nothing once the agent is silent, and a
        candidate never endpoints, so keeping it would leave the kiosk deaf."""
        self._utterance_open = self._candidate = False
        self._speech_run_ms = 0.0
        self._listen_until = t + for_s
        self._set_state(State.LISTENING)

    def _open_utterance(self, start_t: float) -> None:
        """Recognise from just before `start_t` (pre-roll), so no syllable is lost."""
        preroll = self._preroll.drain()
        self._recognizer.reset(start_t - len(preroll) / SAMPLE_RATE_HZ)
        self._recognizer.accept(preroll)
        self._partial_text = ""
        self._utterance_open = True
        self._silence_ms = 0.0
        self._emit(UserSpeechStart())

    def _start_candidate(self, onset_t: float) -> None:
        """A possible barge-in: recognise from before its onset while the detector decides."""
        self._open_utterance(onset_t)
        self._candidate = True

    def _hear(self, frame: AudioFrame, speech: bool) -> None:
        """Feed the recogniser; the VAD (on the echo-cancelled signal) ends the utterance."""
        frame_ms = len(frame.samples) * 1000.0 / SAMPLE_RATE_HZ
        if not self._utterance_open:
            self._preroll.push(frame.samples)
            self._speech_run_ms = self._speech_run_ms + frame_ms if speech else 0.0
            if self._speech_run_ms >= SPEECH_START_MS:
                self._open_utterance(self._t - self._speech_run_ms / 1000.0)
            elif self.state is State.YIELDING and self._t - self._cut_t > YIELD_WAIT_S:
                self._utterance_done(Transcript(t=self._t, text="", final=True))
            return
        partial = self._recognizer.accept(frame.samples).text
        if partial != self._partial_text:      # drafts decoded while the caller speaks
            self._partial_text = partial
            self._emit(PartialTranscript(text=partial))
        if self._candidate:                    # the detector decides while the agent speaks
            return
        self._silence_ms = 0.0 if speech else self._silence_ms + frame_ms
        too_long = self._recognizer.heard_s >= self._config.asr.max_utterance_s
        if self._silence_ms >= self._config.asr.endpoint_silence_ms or too_long:
            self._utterance_open = False
            self._emit(UserSpeechEnd())
            self._utterance_done(self._recognizer.final())

    def _utterance_done(self, transcript: Transcript) -> None:
        text = transcript.text.strip()
        self._emit(FinalTranscript(text=text))
        if self.state is State.YIELDING:
            self._after_interruption(text)
        elif self.state is State.LISTENING:
            if classify(text) == "empty":
                self._start_listening(self._t, max(0.0, self._listen_until - self._t))
                return
            self.conversation.add_user(text)
            self._start_reply(self._voice.clauses(self.conversation))

    # -- speaking --------------------------------------------------------------
    def _start_reply(self, clauses: Iterable[str], resuming: bool = False) -> None:
        self._reply = Reply(clauses, self._voice.synthesize, abort=self._voice.cancel_llm)
        self._resuming = resuming
        self._reply_text, self._placements, self._pending = [], [], None
        self._reply_done = self._first_token_reported = False
        self._speaker.restore(0.0)
        self._set_state(State.THINKING)

    def _feed_speaker(self) -> None:
        """Hand ready chunks to the speaker as it has room; the first one starts the turn.

        The speaker takes a clause only when it is nearly drained, so a chunk
        may wait here (`_pending`); it never blocks the conversation thread.
        """
        assert self._reply is not None
        while not self._reply_done:
            if self._pending is None:
                try:
                    self._pending = self._reply.next_chunk()
                except queue.Empty:
                    return
                if self._pending is END:
                    self._pending = None
                    self._reply_done = True
                    if not self._placements:      # nothing at all to say
                        self._finish_reply()
                    return
            chunk = self._pending
            try:
                start = self._speaker.enqueue(chunk, timeout=0)
            except TimeoutError:
                return
            self._pending = None
            if start is None:                     # a cut happened meanwhile: stale
                continue
            placement = ChunkPlacement(start, chunk)
            self._placements.append(placement)
            self._reply_text.append(chunk.text)
            for listener in self._placement_listeners:
                listener(placement)
            if self.state is State.THINKING:
                self._set_state(State.SPEAKING)
                self._emit(AgentSpeechStart(text=chunk.text))

    def _finish_reply(self) -> None:
        text = " ".join(self._reply_text)
        if not self._resuming:                   # a resumed turn is already in the history
            self.conversation.add_assistant(text)
        failed = self._reply is not None and self._reply.failed is not None
        if failed:
            assert self._reply is not None and self._reply.failed is not None
            self._emit(StageFailed(stage=self._reply.failed_stage,
                       message=_describe(self._reply.failed)))
            self._set_state(State.ERROR)
        self._reply = None
        self._emit(AgentSpeechEnd(text=text))
        self._start_listening(self._t, self._config.llm.follow_up_s)

    # -- faults ----------------------------------------------------------------
    def _reply_overdue(self) -> bool:
        assert self._reply is not None
        waited_s = time.perf_counter() - self._reply.started_at
        return (not self._placements and self._reply.chunks.empty()
                and waited_s > self._config.llm.timeout_s + REPLY_GRACE_S)

    def _give_up_on_reply(self) -> None:
        """The reply never produced a word: drop it (without waiting) and say the fallback."""
        assert self._reply is not None
        self._emit(StageFailed(stage="llm", message="no reply within "
                   f"{self._config.llm.timeout_s + REPLY_GRACE_S:.0f} s; speaking the fallback"))
        self._reply.cancel(join_timeout=0.0)
        self._reply = None
        self._start_reply(split_clauses(self._config.llm.fallback_text))

    def _turn_failed(self, stage: str, error: Exception) -> None:
        """A stage raised mid-turn: say so, drop the turn, and listen again."""
        log.error("%s failed: %s", stage, _describe(error))
        self._emit(StageFailed(stage=stage, message=_describe(error)))
        if self._reply is not None:
            self._reply.cancel(join_timeout=0.0)
            self._reply = None
        self._utterance_open = self._candidate = False
        self._speech_run_ms = 0.0
        self._set_state(State.ERROR)
        self._start_listening(self._t, self._config.llm.follow_up_s)

    def _barge_in(self, event: BargeIn) -> None:
        if self._reply is not None:
            self._reply.cancel()
        self._reply, self._pending = None, None
        self._cut = self.conversation.truncate_to_heard(event.played_samples, self._placements)
        self._emit(AgentCut(heard_text=self._cut.heard_text, onset_t=round(event.onset_t, 3),
                   source=event.source, reply_text=" ".join(self._reply_text),
                   played_samples=event.played_samples))
        self._cut_t = self._t
        if not self._candidate:              # push-to-talk or wake word: wait for speech
            self._utterance_open = False
            self._speech_run_ms = 0.0
        self._candidate = False
        self._set_state(State.YIELDING)

    def _after_interruption(self, text: str) -> None:
        assert self._cut is not None
        kind = classify(text)
        if kind == "request":
            self.conversation.add_user(text)
            self._emit(Replan(text=text))
            self._start_reply(self._voice.clauses(self.conversation))
            return
        resume = BackchannelResume if kind == "backchannel" else FalseInterruptionResume
        self._emit(resume(resume_text=self._cut.resume_text))
        self.conversation.resume(self._cut)
        if self._cut.resume_text:
            self._start_reply(split_clauses(self._cut.resume_text), resuming=True)
        else:
            self._start_listening(self._t, self._config.llm.follow_up_s)

    # -- bookkeeping -----------------------------------------------------------
    @property
    def awaiting_speech(self) -> bool:
        """The agent has a reply in progress but nothing to play yet (compute is on the path)."""
        return (self._reply is not None and not self._reply_done and self._pending is None
                and self._reply.chunks.empty() and not self._speaker.is_speaking)

    @property
    def quiet(self) -> bool:
        """Nobody is taking a turn: idle, or listening without an utterance yet."""
        return self.state is State.IDLE or (self.state is State.LISTENING and not self._utterance_open)

    def words_played(self) -> int:
        """Words of the reply in progress whose last sample has been played."""
        if self.state is not State.SPEAKING:
            return 0
        heard, _ = split_heard(self._speaker.played_samples, self._placements)
        return len(heard)

    def wait_for_speech(self, timeout: float) -> bool:
        """Block until the reply in progress has a chunk ready (the sim's virtual clock),
        or until the reply is overdue and `tick()` would give up on it."""
        if self._reply is None:
            return False
        left_s = (self._config.llm.timeout_s + REPLY_GRACE_S + 0.01
                  - (time.perf_counter() - self._reply.started_at))
        return self._reply.wait_ready(max(0.0, min(timeout, left_s)))

    def _forget_the_guest(self) -> None:
        """A fresh history: back at idle, the next person must not hear the last one's words."""
        self.conversation = Conversation(self._system_prompt, self._config.llm.interruption_note)

    def _set_state(self, state: State) -> None:
        if state is self.state:
            return
        self.state = state
        self._emit(StateChanged(state=state.value))
        for listener in self._state_listeners:
            listener(state)

    def _emit(self, event: ConversationEvent) -> None:
        self._events.emit(self._t, event)

    def close(self) -> None:
        """Cancel any reply in progress; safe to call twice."""
        if self._reply is not None:
            self._reply.cancel()
            self._reply = None


def _describe(error: BaseException) -> str:
    """One line for the event log: the exception's type and first line."""
    text = str(error).splitlines()[0] if str(error) else ""
    return f"{type(error).__name__}: {text}" if text else type(error).__name__
