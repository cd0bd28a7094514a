"""What the kiosk's screen shows, built on the conversation thread.

The view is one small dict: the site's name, the turn state, the caller's
words (partial until the recogniser's final transcript) and the reply being
spoken as words plus how many of them were played. Three sources feed it, all
on the conversation thread: the event log (state, transcripts, the barge-in
cut), the kiosk's placed chunks (each word's place in played samples, from
piper's word timings), and `tick(played_samples)`, the speaker's count of
samples actually played. A word lights up when its last sample has gone to
the card, by the same rule (`split_heard`) that cuts the history, so after a
barge-in the caption stops exactly at the event's `heard_text`.

Every change is handed whole to `publish` (the web server's bounded queue):
a screen that falls behind drops old views and loses nothing, because each
view is complete. Privacy: after `idle_clear_s` back in idle the caller's
words and the reply leave the view.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from appliance.agent.history import ChunkPlacement, split_heard
from appliance.agent.vocabulary import (
    AgentCut,
    AgentSpeechEnd,
    FinalTranscript,
    Ready,
    StateChanged,
    UserSpeechStart,
)
from appliance.config import ScreenSettings

View = dict[str, Any]
Publish = Callable[[View], None]


class ScreenView:
    """The screen's state; every method runs on the conversation thread."""

    def __init__(self, settings: ScreenSettings, publish: Publish, *, site_name: str = "",
                 clock: Callable[[], float] = time.monotonic) -> None:
        self._publish = publish
        self._clock = clock
        self._idle_clear_s = settings.idle_clear_s
        self._site = site_name
        self._seq = 0
        self._state = "idle"
        self._ready = False          # the echo canceller is trained: the kiosk can be talked to
        self._idle_since: float | None = clock()
        self._caller = ""
        self._caller_final = True
        self._placements: list[ChunkPlacement] = []
        self._words: list[str] = []
        self._heard = 0
        self._cut = False
        self._playing = False        # the reply is on the speaker: tick() advances it
        self.current: View = self._build()
        self.first_cut: View | None = None
        """The view right after the first barge-in cut, once the state is yielding
        (`appliance sim`'s screen.png)."""
        publish(self.current)            # a page that connects before any event shows this

    def on_event(self, record: dict[str, Any]) -> None:
        """An event-log record (subscribe this to the EventLog)."""
        event = record["event"]
        if event == Ready.name:
            self._ready = True
        elif event == StateChanged.name:
            self._on_state(record["state"])
        elif event == UserSpeechStart.name:
            self._caller, self._caller_final = "", False
        elif event == FinalTranscript.name:
            self._caller = record.get("text", "")
            self._caller_final = bool(record.get("final", True))
        elif event == AgentCut.name:
            heard, _ = split_heard(int(record["played_samples"]), self._placements)
            self._heard, self._cut, self._playing = len(heard), True, False
        elif event == AgentSpeechEnd.name:
            self._heard, self._playing = len(self._words), False
        else:
            return
        self._changed()
        if self.first_cut is None and self._cut and self._state == "yielding":
            self.first_cut = self.current

    def on_placed(self, placement: ChunkPlacement) -> None:
        """A chunk of the reply went to the speaker: its words join the caption, unplayed."""
        self._placements.append(placement)
        self._words.extend(word.word for word in placement.chunk.words)
        self._playing = True
        self._changed()

    def tick(self, played_samples: int) -> None:
        """Advance the caption to the speaker's played samples; clear an idle screen when due."""
        if self._idle_since is not None and self._has_conversation() \
                and self._clock() - self._idle_since >= self._idle_clear_s:
            self._forget()
            self._changed()
        if not self._playing:
            return
        heard, _ = split_heard(played_samples, self._placements)
        if len(heard) != self._heard:
            self._heard = len(heard)
            self._changed()

    def _on_state(self, state: str) -> None:
        self._state = state
        self._idle_since = self._clock() if state == "idle" else None
        if state == "thinking":          # a new reply (or a resumed one) starts its own caption
            self._placements, self._words = [], []
            self._heard, self._cut, self._playing = 0, False, False

    def _has_conversation(self) -> bool:
        return bool(self._caller or self._words)

    def _forget(self) -> None:
        self._caller, self._caller_final = "", True
        self._placements, self._words = [], []
        self._heard, self._cut, self._playing = 0, False, False

    def _build(self) -> View:
        return {
            "seq": self._seq,
            "emitted_ms": time.time() * 1000.0,
            "site": self._site,
            "state": self._state,
            "ready": self._ready,
            "caller": {"text": self._caller, "final": self._caller_final},
            "reply": {"words": list(self._words), "heard": self._heard, "cut": self._cut},
            "idle_clear_s": self._idle_clear_s,
        }

    def _changed(self) -> None:
        self._seq += 1
        self.current = self._build()
        self._publish(self.current)
