"""Take the words out of an event before it is kept: what `[privacy]` allows, nothing more.

Two kinds of text pass through the events: what the guest said (`transcript`,
`replan`) and what the agent said (`agent_speech_*`, the cut in
`barge_in_stop`, the resumed rest of a sentence), which can repeat the guest
("room 412 is on the fourth floor"). Each is kept only when its setting is on;
otherwise the field is replaced by counts, so latencies, barge-ins and the
kind of each utterance can still be analysed. Event names and every other
field stay as they are: the log format is public.
"""

from __future__ import annotations

from typing import Any

from appliance.agent.backchannel import classify
from appliance.agent.vocabulary import EVENT_TYPES
from appliance.config import PrivacySettings

KEEP_WORDS = PrivacySettings(log_transcripts=True, log_replies=True)
"""For synthetic conversations only (the sim, bench and tests): every word is kept."""

GUEST_FIELDS = {name: kind.guest_fields for name, kind in EVENT_TYPES.items() if kind.guest_fields}
"""Fields holding what the guest said, by event (declared with each type)."""

REPLY_FIELDS = {name: kind.reply_fields for name, kind in EVENT_TYPES.items() if kind.reply_fields}
"""Fields holding what the agent said, by event (declared with each type)."""


def word_count(text: str) -> int:
    return len(text.split())


def counted_name(field: str) -> str:
    """`text` -> `words`, `heard_text` -> `heard_words`."""
    return "words" if field == "text" else field.removesuffix("_text") + "_words"


def redact(record: dict[str, Any], privacy: PrivacySettings) -> dict[str, Any]:
    """The record as it may be kept: words the settings do not allow become counts."""
    event = record["event"]
    drop = (() if privacy.log_transcripts else GUEST_FIELDS.get(event, ())) + (
        () if privacy.log_replies else REPLY_FIELDS.get(event, ()))
    if not any(name in record for name in drop):
        return record
    kept: dict[str, Any] = {}
    for name, value in record.items():
        if name not in drop:
            kept[name] = value
            continue
        text = str(value)
        kept[counted_name(name)] = word_count(text)
        if event in GUEST_FIELDS:
            kept["chars"] = len(text)
            kept["kind"] = classify(text)
    return kept


def keeps_words(privacy: PrivacySettings) -> bool:
    """True when any guest or reply text reaches the events file and the journal."""
    return privacy.log_transcripts or privacy.log_replies
