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
from dataclasses import dataclass, field, replace

import numpy as np

from appliance.agent.backchannel import classify, normalise
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
    ReplyTiming,
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
from appliance.speech.endpoint import EndpointRule, completeness

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


@dataclass
class Hearing:
    """The utterance being heard (or waited for) while listening, yielding or ducked."""

    open: bool = False
    """The recogniser is hearing an utterance."""
    candidate: bool = False
    """Opened by a barge-in onset the detector has not confirmed yet."""
    partial_text: str = ""
    """The last partial transcript reported."""
    speech_run_ms: float = 0.0
    """VAD speech so far while waiting for an utterance to open."""
    silence_ms: float = 0.0
    """VAD silence since the utterance's last speech."""
    words: str | None = None
    """The recogniser's latest settled draft of the utterance (what the caller said so far)."""


@dataclass
class Speaking:
    """The reply being made and spoken: its worker, what the speaker took, where it is."""

    reply: Reply
    resuming: bool = False
    """The rest of an interrupted sentence: already in the history."""
    pending: SpeechChunk | None = None
    """A chunk the speaker had no room for yet."""
    texts: list[str] = field(default_factory=list)
    placements: list[ChunkPlacement] = field(default_factory=list)
    done: bool = False
    """The reply's worker has handed over its last chunk."""
    first_token_reported: bool = False
    turn: TurnTiming | None = None
    """How the caller's turn reached this reply (None for a resume or the fallback)."""


@dataclass
class Speculation:
    """An answer started on the recogniser's settled draft before the endpoint.

    It works on a copy of the conversation with the draft as the caller's
    turn; the kiosk keeps it (copy and reply) when the final words match."""

    text: str
    conversation: Conversation
    reply: Reply


@dataclass(frozen=True)
class TurnTiming:
    """Where the time went between the endpoint and a reply's first chunk, in pipeline
    time (the wall clock on a sound card; room time in `appliance sim`, where each step's
    compute is placed at `Reply.started_t` plus what it took)."""

    endpoint_t: float
    """Pipeline time of the endpoint."""
    asr_ms: float
    """The recogniser's final decode."""
    speculative: bool
    """The reply was started on the draft before the endpoint."""

    def on_path(self, reply: Reply) -> ReplyTiming:
        """The answer's and TTS's time after the endpoint (a speculation may hide both)."""
        after = self.endpoint_t + self.asr_ms / 1e3
        clause_t = reply.pipeline_time(reply.first_clause_at) if reply.first_clause_at else after
        chunk_t = reply.pipeline_time(reply.first_chunk_at) if reply.first_chunk_at else clause_t
        answer_s = max(0.0, clause_t - max(reply.started_t, after))
        tts_s = max(0.0, chunk_t - max(clause_t, after))
        return ReplyTiming(asr_ms=round(self.asr_ms, 1), answer_ms=round(answer_s * 1e3, 1),
                           tts_ms=round(tts_s * 1e3, 1), speculative=self.speculative)


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
        self._endpoint = EndpointRule(config.asr)
        self._system_prompt = (config.llm.system_prompt if voice.system_prompt is None
                               else voice.system_prompt)
        self._forget_the_guest()
        self.state = State.IDLE
        self._t = 0.0
        self._preroll = PreRoll(config.asr.preroll_ms)
        self._hearing = Hearing()
        self._speaking: Speaking | None = None
        self._speculation: Speculation | None = None
        self._cut_t = 0.0
        self._cut: HeardCut | None = None
        self._listen_until = 0.0
        self._state_listeners: list[Callable[[State], None]] = []
        self._placement_listeners: list[Callable[[ChunkPlacement], None]] = []
        self.hold_until_computed = False
        """Hold each chunk until pipeline time has passed the compute it took
        (`Reply.ready_t`): for a pipeline clock that runs faster than the wall
        clock (`appliance sim`); on a sound card the two run together."""

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
        if self.state in (State.LISTENING, State.YIELDING) or self._hearing.candidate:
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
                self._hearing = Hearing()
                self._emit(StageFailed(stage="asr", message=_describe(error)))
        elif isinstance(event, BargeInRelease):
            self._emit(AgentRestored(onset_t=round(event.onset_t, 3)))
            self._hearing = Hearing()
        elif isinstance(event, BargeIn):
            self._barge_in(event)

    def tick(self) -> None:
        """Move synthesised speech to the speaker and notice when the agent is done."""
        if (self.state is State.LISTENING and not self._hearing.open
                and self._t > self._listen_until):
            self._forget_the_guest()
            self._set_state(State.IDLE)
        speaking = self._speaking
        if speaking is None:
            return
        if self.state is State.THINKING and self._reply_overdue(speaking):
            self._give_up_on_reply(speaking)
            return
        if not speaking.first_token_reported and speaking.reply.first_clause_at is not None:
            speaking.first_token_reported = True
            self._emit(FirstClause(latency_ms=round(
                (speaking.reply.first_clause_at - speaking.reply.started_at) * 1e3)))
        self._feed_speaker(speaking)
        if speaking.done and not self._speaker.is_speaking and self.state is State.SPEAKING:
            self._finish_reply(speaking)

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
        self._hearing = Hearing()
        self._drop_speculation()
        self._listen_until = t + for_s
        self._set_state(State.LISTENING)

    def _open_utterance(self, start_t: float, candidate: bool = False) -> None:
        """Recognise from just before `start_t` (pre-roll), so no syllable is lost."""
        preroll = self._preroll.drain()
        self._recognizer.reset(start_t - len(preroll) / SAMPLE_RATE_HZ)
        self._recognizer.accept(preroll)
        self._hearing = Hearing(open=True, candidate=candidate)
        self._emit(UserSpeechStart())

    def _start_candidate(self, onset_t: float) -> None:
        """A possible barge-in: recognise from before its onset while the detector decides."""
        self._open_utterance(onset_t, candidate=True)

    def _hear(self, frame: AudioFrame, speech: bool) -> None:
        """Feed the recogniser; the VAD (on the echo-cancelled signal) and the words so far
        end the utterance (`EndpointRule`); a settled draft starts the answer early."""
        hearing = self._hearing
        frame_ms = len(frame.samples) * 1000.0 / SAMPLE_RATE_HZ
        if not hearing.open:
            self._preroll.push(frame.samples)
            hearing.speech_run_ms = hearing.speech_run_ms + frame_ms if speech else 0.0
            if hearing.speech_run_ms >= SPEECH_START_MS:
                self._open_utterance(self._t - hearing.speech_run_ms / 1000.0)
            elif self.state is State.YIELDING and self._t - self._cut_t > YIELD_WAIT_S:
                self._utterance_done(Transcript(t=self._t, text="", final=True), None)
            return
        partial = self._recognizer.accept(frame.samples).text
        if partial != hearing.partial_text:      # drafts decoded while the caller speaks
            hearing.partial_text = partial
            self._emit(PartialTranscript(text=partial))
        if hearing.candidate:                    # the detector decides while the agent speaks
            return
        hearing.silence_ms = 0.0 if speech else hearing.silence_ms + frame_ms
        quiet_ms = self._recognizer.quiet_ms
        settled = self._recognizer.settled_text
        if settled is not None:
            hearing.words = settled
        self._speculate(settled if hearing.silence_ms or quiet_ms else None)
        if (self._endpoint.ended(hearing.silence_ms, hearing.words, quiet_ms, settled is not None)
                or self._recognizer.too_long):
            log.debug("endpoint after %.0f ms of VAD silence, %.0f ms quiet (the words read as %s, %s)",
                      hearing.silence_ms, quiet_ms,  # never the words: the journal keeps none
                      completeness(hearing.words).value if hearing.words else "nothing yet",
                      "settled" if settled is not None else "sound since")
            self._hearing = Hearing()
            self._emit(UserSpeechEnd())
            endpoint_at = time.perf_counter()
            transcript = self._recognizer.final()
            asr_ms = (time.perf_counter() - endpoint_at) * 1e3
            self._utterance_done(transcript, TurnTiming(self._t, asr_ms, speculative=False))

    def _speculate(self, settled: str | None) -> None:
        """Keep the speculative answer in step with the settled draft: start one on a draft
        that wants a reply, drop it when the caller goes on or the draft changes."""
        current = self._speculation
        if current is not None and (settled is None or not same_words(settled, current.text)):
            self._drop_speculation()
            current = None
        if (current is None and settled is not None and self._config.asr.speculate
                and self._wants_reply(settled)):
            conversation = self.conversation.with_user(settled)
            self._speculation = Speculation(settled, conversation, self._new_reply(
                self._voice.clauses(conversation), name="speculative-reply"))

    def _drop_speculation(self) -> None:
        if self._speculation is not None:
            self._speculation.reply.cancel(join_timeout=0.0)
            self._speculation = None

    def _take_speculation(self, text: str) -> Speculation | None:
        """The speculative answer if it was made for these final words; else it is dropped."""
        speculation, self._speculation = self._speculation, None
        if speculation is not None and same_words(speculation.text, text):
            return speculation
        if speculation is not None:
            speculation.reply.cancel(join_timeout=0.0)
        return None

    def _wants_reply(self, text: str) -> bool:
        """Whether these words, as the caller's whole turn, get an answer: while listening
        anything but noise does; after a cut, only a request (a backchannel resumes)."""
        kind = classify(text)
        return kind == "request" or (kind == "backchannel" and self.state is State.LISTENING)

    def _utterance_done(self, transcript: Transcript, timing: TurnTiming | None) -> None:
        text = transcript.text.strip()
        self._emit(FinalTranscript(text=text))
        speculation = self._take_speculation(text)
        if timing is not None and speculation is not None:
            timing = replace(timing, speculative=True)
        if self.state is State.YIELDING:
            self._after_interruption(text, speculation, timing)
        elif self.state is State.LISTENING:
            if not self._wants_reply(text):
                self._start_listening(self._t, max(0.0, self._listen_until - self._t))
                return
            self._answer(text, speculation, timing)

    def _answer(self, text: str, speculation: Speculation | None, timing: TurnTiming | None) -> None:
        """Reply to the caller's turn: the speculative answer when it matches, else a new one
        (started after the recogniser's final decode)."""
        if speculation is not None:
            self.conversation = speculation.conversation
            reply = speculation.reply
        else:
            self.conversation.add_user(text)
            after_asr_t = self._t + (timing.asr_ms / 1e3 if timing is not None else 0.0)
            reply = self._new_reply(self._voice.clauses(self.conversation), started_t=after_asr_t)
        self._start_speaking(Speaking(reply, turn=timing))

    # -- speaking --------------------------------------------------------------
    def _new_reply(self, clauses: Iterable[str], name: str = "reply",
                   started_t: float | None = None) -> Reply:
        return Reply(clauses, self._voice.synthesize, abort=self._voice.cancel_llm, name=name,
                     started_t=self._t if started_t is None else started_t)

    def _start_speaking(self, speaking: Speaking) -> None:
        self._speaking = speaking
        self._speaker.restore(0.0)
        self._set_state(State.THINKING)

    def _feed_speaker(self, speaking: Speaking) -> None:
        """Hand ready chunks to the speaker as it has room; the first one starts the turn.

        The speaker takes a clause only when it is nearly drained, so a chunk
        may wait here (`pending`); it never blocks the conversation thread.
        """
        while not speaking.done:
            if speaking.pending is None:
                try:
                    speaking.pending = speaking.reply.next_chunk()
                except queue.Empty:
                    return
                if speaking.pending is END:
                    speaking.pending = None
                    speaking.done = True
                    if not speaking.placements:      # nothing at all to say
                        self._finish_reply(speaking)
                    return
            chunk = speaking.pending
            if self.hold_until_computed and self._t < speaking.reply.ready_t(chunk):
                return
            try:
                start = self._speaker.enqueue(chunk, timeout=0)
            except TimeoutError:
                return
            speaking.pending = None
            if start is None:                     # a cut happened meanwhile: stale
                continue
            placement = ChunkPlacement(start, chunk)
            speaking.placements.append(placement)
            speaking.texts.append(chunk.text)
            for listener in self._placement_listeners:
                listener(placement)
            if self.state is State.THINKING:
                self._set_state(State.SPEAKING)
                self._emit(AgentSpeechStart(text=chunk.text))
                if speaking.turn is not None:
                    self._emit(speaking.turn.on_path(speaking.reply))

    def _finish_reply(self, speaking: Speaking) -> None:
        text = " ".join(speaking.texts)
        if not speaking.resuming:                 # a resumed turn is already in the history
            self.conversation.add_assistant(text)
        failed = speaking.reply.failed
        if failed is not None:
            self._emit(StageFailed(stage=speaking.reply.failed_stage, message=_describe(failed)))
            self._set_state(State.ERROR)
        self._speaking = None
        self._emit(AgentSpeechEnd(text=text))
        self._start_listening(self._t, self._config.llm.follow_up_s)

    # -- faults ----------------------------------------------------------------
    def _reply_overdue(self, speaking: Speaking) -> bool:
        waited_s = time.perf_counter() - speaking.reply.started_at
        return (not speaking.placements and speaking.reply.chunks.empty()
                and waited_s > self._config.llm.timeout_s + REPLY_GRACE_S)

    def _give_up_on_reply(self, speaking: Speaking) -> None:
        """The reply never produced a word: drop it (without waiting) and say the fallback."""
        self._emit(StageFailed(stage="llm", message="no reply within "
                   f"{self._config.llm.timeout_s + REPLY_GRACE_S:.0f} s; speaking the fallback"))
        speaking.reply.cancel(join_timeout=0.0)
        self._start_speaking(Speaking(self._new_reply(split_clauses(self._config.llm.fallback_text))))

    def audio_failed(self, error: BaseException) -> None:
        """The sound card failed (it is being reopened): the reply it was playing is lost,
        so the turn ends as any failed stage's does, and the kiosk listens again."""
        self._turn_failed("audio", error)

    def _turn_failed(self, stage: str, error: BaseException) -> None:
        """A stage raised mid-turn: say so, drop the turn, and listen again."""
        log.error("%s failed: %s", stage, _describe(error))
        self._emit(StageFailed(stage=stage, message=_describe(error)))
        if self._speaking is not None:
            self._speaking.reply.cancel(join_timeout=0.0)
            self._speaking = None
        self._drop_speculation()
        self._hearing = Hearing()
        self._set_state(State.ERROR)
        self._start_listening(self._t, self._config.llm.follow_up_s)

    def _barge_in(self, event: BargeIn) -> None:
        speaking, self._speaking = self._speaking, None
        if speaking is not None:
            speaking.reply.cancel()
        placements = speaking.placements if speaking is not None else []
        self._cut = self.conversation.truncate_to_heard(event.played_samples, placements)
        self._emit(AgentCut(heard_text=self._cut.heard_text, onset_t=round(event.onset_t, 3),
                            source=event.source,
                            reply_text=" ".join(speaking.texts) if speaking is not None else "",
                            played_samples=event.played_samples))
        self._cut_t = self._t
        if self._hearing.candidate:           # the onset's utterance goes on being heard
            self._hearing.candidate = False
        else:                                 # push-to-talk or wake word: wait for speech
            self._hearing = Hearing()
        self._set_state(State.YIELDING)

    def _after_interruption(self, text: str, speculation: Speculation | None,
                            timing: TurnTiming | None) -> None:
        assert self._cut is not None
        kind = classify(text)
        if kind == "request":
            self._emit(Replan(text=text))
            self._answer(text, speculation, timing)
            return
        resumed = BackchannelResume if kind == "backchannel" else FalseInterruptionResume
        self._emit(resumed(resume_text=self._cut.resume_text))
        self.conversation.resume(self._cut)
        if self._cut.resume_text:
            self._start_speaking(Speaking(self._new_reply(split_clauses(self._cut.resume_text)),
                                          resuming=True))
        else:
            self._start_listening(self._t, self._config.llm.follow_up_s)

    # -- bookkeeping -----------------------------------------------------------
    @property
    def awaiting_speech(self) -> bool:
        """The agent has a reply in progress but nothing to play yet (compute is on the path)."""
        speaking = self._speaking
        return (speaking is not None and not speaking.done and speaking.pending is None
                and speaking.reply.chunks.empty() and not self._speaker.is_speaking)

    @property
    def speculating(self) -> bool:
        """A speculative answer is being made (its worker is running)."""
        return self._speculation is not None and self._speculation.reply.running

    @property
    def quiet(self) -> bool:
        """Nobody is taking a turn: idle, or listening without an utterance yet."""
        return self.state is State.IDLE or (self.state is State.LISTENING and not self._hearing.open)

    def words_played(self) -> int:
        """Words of the reply in progress whose last sample has been played."""
        if self.state is not State.SPEAKING or self._speaking is None:
            return 0
        heard, _ = split_heard(self._speaker.played_samples, self._speaking.placements)
        return len(heard)

    def wait_for_speech(self, timeout: float) -> bool:
        """Block until the reply in progress has a chunk ready (tests stepping the room),
        or until the reply is overdue and `tick()` would give up on it."""
        if self._speaking is None:
            return False
        reply = self._speaking.reply
        left_s = (self._config.llm.timeout_s + REPLY_GRACE_S + 0.01
                  - (time.perf_counter() - reply.started_at))
        return reply.wait_ready(max(0.0, min(timeout, left_s)))

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
        """Cancel any reply in progress (and a speculative one); safe to call twice."""
        self._drop_speculation()
        if self._speaking is not None:
            self._speaking.reply.cancel()
            self._speaking = None


def same_words(a: str, b: str) -> bool:
    """Whether two transcripts say the same words (case and punctuation aside)."""
    return normalise(a) == normalise(b)


def _describe(error: BaseException) -> str:
    """One line for the event log: the exception's type and first line."""
    text = str(error).splitlines()[0] if str(error) else ""
    return f"{type(error).__name__}: {text}" if text else type(error).__name__
