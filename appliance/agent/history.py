"""The conversation the LLM reads, and cutting the agent's turn to what was heard.

When the caller cuts the agent off, the history must not claim the agent said
things nobody heard: the assistant message becomes exactly the words whose
audio was played, and it is marked interrupted. The speaker counts samples
actually played (16 kHz, `played_samples`) and places each SpeechChunk at the
played-sample index of its first sample; the chunk's word boundaries are at
the TTS rate, so they are converted by rate. A word counts as heard only if its
last sample was played before the cut: half a word is not a word the caller
can answer to.

How the LLM is told about the cut (measured on SmolLM2-135M, see the tests'
notes and the closing report): a marker inside the assistant text (" —",
"…", "[interrupted]") is copied into the next reply ("The gym is on the —"), so
the assistant text stays the bare heard words and a separate short system note
after it says the guest interrupted there. The note is a system turn, not the
agent's own voice, so the model does not imitate it; and it sits after the cut
message, so every earlier turn renders identically and the KV cache still
matches up to the cut.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

from appliance.messages import SAMPLE_RATE_HZ, SpeechChunk, WordTiming
from appliance.speech.clauses import SENTENCE_END

Role = Literal["system", "user", "assistant"]


@dataclass(frozen=True)
class Message:
    """One turn; `interrupted` marks an assistant turn cut to its heard words.

    `prompt_text` (a caller's turn with the facts retrieved for it) is what
    the model reads while that turn is the latest: earlier turns render as
    the bare words, so the prompt stays short and holds no fact beyond the
    current answer's.
    """

    role: Role
    text: str
    interrupted: bool = False
    prompt_text: str = ""


@dataclass(frozen=True)
class ChunkPlacement:
    """Where the speaker put a chunk: played-sample index (16 kHz) of its first sample."""

    start_sample: int
    chunk: SpeechChunk


@dataclass(frozen=True)
class HeardCut:
    """What the caller heard of an interrupted reply, and what was left of its sentence."""

    heard_text: str
    resume_text: str
    """The interrupted sentence from the first unheard word to its end ("" if
    the cut fell after the last placed word); what a backchannel resumes."""


def word_start_played(placement: ChunkPlacement, word: WordTiming) -> int:
    """Played-sample index of the word's first sample."""
    rate = placement.chunk.rate_hz
    return placement.start_sample + round(word.start_sample * SAMPLE_RATE_HZ / rate)


def word_end_played(placement: ChunkPlacement, word: WordTiming) -> int:
    """Played-sample index just past the word's last sample (end_sample is exclusive)."""
    rate = placement.chunk.rate_hz
    return placement.start_sample + round(word.end_sample * SAMPLE_RATE_HZ / rate)


def split_heard(
    played_samples: int, placements: Sequence[ChunkPlacement]
) -> tuple[list[str], list[str]]:
    """The placed words in speaking order, split into (heard, not heard)."""
    heard: list[str] = []
    unheard: list[str] = []
    for placement in sorted(placements, key=lambda item: item.start_sample):
        for word in placement.chunk.words:
            was_heard = not unheard and word_end_played(placement, word) <= played_samples
            (heard if was_heard else unheard).append(word.word)
    return heard, unheard


def rest_of_sentence(unheard: Sequence[str]) -> str:
    """The unheard words up to and including the one that ends the sentence."""
    words: list[str] = []
    for word in unheard:
        words.append(word)
        if word.endswith(SENTENCE_END):
            break
    return " ".join(words)


class Conversation:
    """System prompt plus alternating user and assistant turns, oldest first."""

    def __init__(self, system_prompt: str, interruption_note: str = "") -> None:
        self._messages: list[Message] = [Message("system", system_prompt)]
        self._interruption_note = interruption_note
        self._resumed_prefix = ""

    @property
    def messages(self) -> tuple[Message, ...]:
        return tuple(self._messages)

    def add_user(self, text: str) -> None:
        self._resumed_prefix = ""
        self._messages.append(Message("user", text))

    def show_latest_as(self, prompt_text: str) -> None:
        """What the model reads for the latest caller's turn (its words with their facts)."""
        for index in range(len(self._messages) - 1, -1, -1):
            message = self._messages[index]
            if message.role == "user":
                self._messages[index] = dataclasses.replace(message, prompt_text=prompt_text)
                return

    @property
    def last_user_text(self) -> str:
        """The caller's latest words ("" before the first turn)."""
        return next((m.text for m in reversed(self._messages) if m.role == "user"), "")

    def add_assistant(self, text: str) -> None:
        """A reply that was spoken to its end (or the fallback)."""
        self._resumed_prefix = ""
        self._set_reply(Message("assistant", text))

    def truncate_to_heard(
        self, played_samples: int, placements: Sequence[ChunkPlacement]
    ) -> HeardCut:
        """Cut the current reply to the words played before `played_samples`.

        `placements` are the chunks of this reply the speaker accepted, each
        at its played-sample start. Works whether or not the reply was already
        added: a reply still being generated gets its assistant turn here.
        """
        heard, unheard = split_heard(played_samples, placements)
        heard_text = " ".join(part for part in (self._resumed_prefix, *heard) if part)
        self._set_reply(Message("assistant", heard_text, interrupted=True))
        return HeardCut(heard_text=heard_text, resume_text=rest_of_sentence(unheard))

    def resume(self, cut: HeardCut) -> None:
        """A backchannel or false alarm: the agent goes on with the rest of the sentence.

        The reply becomes the heard words plus the resumed ones; if the resumed
        speech is cut again, what was heard before counts as already heard.
        """
        text = " ".join(part for part in (cut.heard_text, cut.resume_text) if part)
        self._set_reply(Message("assistant", text))
        self._resumed_prefix = cut.heard_text

    def prompt_messages(self) -> list[dict[str, str]]:
        """The turns as chat-template messages, with the interruption note after a cut turn."""
        rendered: list[dict[str, str]] = []
        latest_user = max((i for i, m in enumerate(self._messages) if m.role == "user"), default=-1)
        for index, message in enumerate(self._messages):
            shown = message.prompt_text if index == latest_user and message.prompt_text else message.text
            rendered.append({"role": message.role, "content": shown})
            if message.interrupted and self._interruption_note:
                rendered.append({"role": "system", "content": self._interruption_note})
        return rendered

    def _set_reply(self, reply: Message) -> None:
        """Replace the reply in progress, or add it after the caller's turn."""
        if self._messages[-1].role == "assistant":
            self._messages[-1] = reply
        else:
            self._messages.append(reply)
