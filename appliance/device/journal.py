"""Logging: structured journal entries under systemd, readable lines on a console.

Under systemd ($JOURNAL_STREAM or $INVOCATION_ID set) records go to journald
through systemd-python's JournalHandler, so `journalctl -u appliance
EVENT=barge_in` finds every interruption and its latency fields without
parsing text. On a console the same fields are appended as `key=value`.

Structured fields follow the journal's own convention: upper-case names
(`EVENT`, `LATENCY_MS`). `log_event()` is the one way to emit them.
"""

from __future__ import annotations

import logging
import os
import sys
from collections.abc import Callable, Mapping
from typing import Any

SYSLOG_IDENTIFIER = "appliance"
CONSOLE_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"
WORD_LOGGERS = ("piper",)
"""Libraries that log the text they work on at debug level (piper: every sentence it speaks)."""


def running_under_systemd(environ: Mapping[str, str] = os.environ) -> bool:
    """True when systemd started us: it sets these for every service it runs."""
    return "JOURNAL_STREAM" in environ or "INVOCATION_ID" in environ


def _is_journal_field(name: str) -> bool:
    return name.isupper() and name.replace("_", "").isalnum() and not name.startswith("_")


class FieldsFormatter(logging.Formatter):
    """The console view of a record: the message, then its journal fields as key=value."""

    def format(self, record: logging.LogRecord) -> str:
        text = super().format(record)
        fields = [f"{name.lower()}={value}" for name, value in vars(record).items()
                  if _is_journal_field(name)]
        return " ".join([text, *fields])


def journal_handler(sender: Callable[..., Any] | None = None) -> logging.Handler:
    """A JournalHandler tagged `appliance`; `sender` replaces journald (tests)."""
    from systemd.journal import JournalHandler, send

    return JournalHandler(sender_function=sender or send, SYSLOG_IDENTIFIER=SYSLOG_IDENTIFIER)


def setup_logging(
    level: str = "info",
    environ: Mapping[str, str] = os.environ,
    journal_sender: Callable[..., Any] | None = None,
) -> logging.Handler:
    """Route the root logger to the journal or the console; returns the handler in use."""
    if running_under_systemd(environ):
        handler = journal_handler(journal_sender)
    else:
        handler = logging.StreamHandler(sys.stderr)
        handler.setFormatter(FieldsFormatter(CONSOLE_FORMAT))
    root = logging.getLogger()
    for old in list(root.handlers):
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(level.upper())
    return handler


def log_event(logger: logging.Logger, event: str, message: str, **fields: Any) -> None:
    """Log `message` with EVENT=`event` and each keyword as an upper-case journal field."""
    extra = {"EVENT": event, **{name.upper(): value for name, value in fields.items()}}
    logger.info(message, extra=extra)


def hold_word_loggers() -> tuple[str, ...]:
    """Keep WORD_LOGGERS at info, so that debug logging prints no words; returns their names."""
    for name in WORD_LOGGERS:
        logging.getLogger(name).setLevel(logging.INFO)
    return WORD_LOGGERS
