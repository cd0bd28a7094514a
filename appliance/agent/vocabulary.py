"""The conversation's events, each declared once as a type: its JSON name, its fields, its words.

The events file, the journal, the console timeline, the screen and the
simulator's summary all read these records, so the names and fields are a
public log format: `{"t": ..., "event": NAME, **fields}` with the fields in
the order declared here. `EventLog.emit()` serialises an event; consumers key on
a type's `name` (`AgentCut.name`), never on a string of their own.

`guest_fields` and `reply_fields` say which fields hold words (what the guest
said, what the agent said): `redact()` turns them into counts unless
`[privacy]` keeps them.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any, ClassVar


@dataclass(frozen=True)
class ConversationEvent:
    """Base of every event the conversation records; the time is the log's (`EventLog.emit`)."""

    name: ClassVar[str]
    guest_fields: ClassVar[tuple[str, ...]] = ()
    """Fields holding what the guest said."""
    reply_fields: ClassVar[tuple[str, ...]] = ()
    """Fields holding what the agent said (which can repeat the guest)."""

    def fields(self) -> dict[str, Any]:
        """The event's fields in declaration order, as they go into the record."""
        return {field.name: getattr(self, field.name) for field in dataclasses.fields(self)}


@dataclass(frozen=True)
class Ready(ConversationEvent):
    """The echo canceller is trained and the kiosk listens: at start-up, and again on a
    sound card that was reopened."""

    name = "ready"


@dataclass(frozen=True)
class Wake(ConversationEvent):
    """The wake word was heard."""

    name = "wake"


@dataclass(frozen=True)
class UserSpeechStart(ConversationEvent):
    """The caller started an utterance."""

    name = "user_speech_start"


@dataclass(frozen=True)
class UserSpeechEnd(ConversationEvent):
    """The caller's utterance ended (the endpoint)."""

    name = "user_speech_end"


@dataclass(frozen=True)
class PartialTranscript(ConversationEvent):
    """The recogniser's words so far, while the caller speaks."""

    name = "partial_transcript"
    guest_fields = ("text",)
    text: str


@dataclass(frozen=True)
class FinalTranscript(ConversationEvent):
    """What the caller said in one utterance."""

    name = "transcript"
    guest_fields = ("text",)
    text: str


@dataclass(frozen=True)
class FirstClause(ConversationEvent):
    """The answer's first clause is ready, `latency_ms` after the reply started."""

    name = "llm_first_token"
    latency_ms: int


@dataclass(frozen=True)
class AgentSpeechStart(ConversationEvent):
    """The agent's reply reached the speaker; `text` is its first clause."""

    name = "agent_speech_start"
    reply_fields = ("text",)
    text: str


@dataclass(frozen=True)
class ReplyTiming(ConversationEvent):
    """Where a reply to the caller's turn spent its time after the endpoint, wall clock:
    the recogniser's final decode, the answer (retrieval, the LLM's first clause) and TTS
    of the first chunk still running then; a reply started on the draft before the
    endpoint (`speculative`) may have done both already."""

    name = "reply_timing"
    asr_ms: float
    answer_ms: float
    tts_ms: float
    speculative: bool


@dataclass(frozen=True)
class AgentSpeechEnd(ConversationEvent):
    """The agent finished its reply; `text` is all of it."""

    name = "agent_speech_end"
    reply_fields = ("text",)
    text: str


@dataclass(frozen=True)
class AgentDucked(ConversationEvent):
    """A speech-like onset while the agent spoke: its voice was ducked."""

    name = "barge_in_duck"
    onset_t: float


@dataclass(frozen=True)
class AgentRestored(ConversationEvent):
    """The onset was not confirmed: the agent's volume came back."""

    name = "barge_in_release"
    onset_t: float


@dataclass(frozen=True)
class AgentCut(ConversationEvent):
    """A confirmed interruption: the agent stopped; `heard_text` is what the caller heard."""

    name = "barge_in_stop"
    reply_fields = ("heard_text", "reply_text")
    heard_text: str
    onset_t: float
    source: str
    reply_text: str
    played_samples: int


@dataclass(frozen=True)
class BackchannelResume(ConversationEvent):
    """The interruption was a backchannel ("mm-hmm"): the agent resumes from the cut word."""

    name = "backchannel_resume"
    reply_fields = ("resume_text",)
    resume_text: str


@dataclass(frozen=True)
class FalseInterruptionResume(ConversationEvent):
    """The interruption was noise or nothing: the agent resumes from the cut word."""

    name = "false_interruption_resume"
    reply_fields = ("resume_text",)
    resume_text: str


@dataclass(frozen=True)
class Replan(ConversationEvent):
    """The interruption was a new request: the agent answers `text` instead."""

    name = "replan"
    guest_fields = ("text",)
    text: str


@dataclass(frozen=True)
class StateChanged(ConversationEvent):
    """The turn-taking state changed (a `messages.State` value)."""

    name = "state"
    state: str


@dataclass(frozen=True)
class StageFailed(ConversationEvent):
    """A stage (asr, llm, tts, audio, ...) failed; the kiosk goes on."""

    name = "error"
    stage: str
    message: str


EVENT_TYPES: dict[str, type[ConversationEvent]] = {event.name: event for event in (
    Ready, Wake, UserSpeechStart, UserSpeechEnd, PartialTranscript, FinalTranscript, FirstClause,
    AgentSpeechStart, ReplyTiming, AgentSpeechEnd, AgentDucked, AgentRestored, AgentCut,
    BackchannelResume, FalseInterruptionResume, Replan, StateChanged, StageFailed,
)}
"""The one name table: JSON name -> type."""
