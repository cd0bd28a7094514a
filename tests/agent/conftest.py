"""Fixtures shared by the conversation tests."""

from __future__ import annotations

import logging

import pytest

from appliance.device.journal import setup_logging


@pytest.fixture
def journal():
    """Every (message, fields) the kiosk sends to journald, through the real JournalHandler
    with journald replaced by a list (the handler's own injection point)."""
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    sent: list[tuple[str, dict]] = []
    setup_logging("debug", {"INVOCATION_ID": "test"},
                  journal_sender=lambda m, **fields: sent.append((m, fields)))
    yield sent
    for handler in list(root.handlers):
        root.removeHandler(handler)
    for handler in handlers:
        root.addHandler(handler)
    root.setLevel(level)
