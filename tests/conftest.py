"""Shared fixtures. `pulse` gives the ALSA tests a private PulseAudio daemon;
`journal` captures what the kiosk sends to journald.

If PulseAudio cannot start, every test that needs it FAILS with the reason:
an ALSA test that silently skipped would count as passing without running.

Tests marked `peers` run the optional WebRTC cancellers (`make peers`). They
are deselected unless `--peers` is given (`make test-peers`), which pytest
counts in its summary line ("N deselected"); selected, a peer that is not
installed fails the test with the install step.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Iterator

import pytest
from pulse import PrivatePulse, PulseStartError

from appliance.device.journal import setup_logging


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption("--peers", action="store_true",
                     help="run the tests of the optional WebRTC cancellers (make peers first)")


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if config.getoption("--peers"):
        return
    deselected = [item for item in items if item.get_closest_marker("peers")]
    if deselected:
        config.hook.pytest_deselected(items=deselected)
        items[:] = [item for item in items if not item.get_closest_marker("peers")]


@pytest.fixture(scope="session")
def pulse(tmp_path_factory: pytest.TempPathFactory) -> Iterator[PrivatePulse]:
    """A running private PulseAudio daemon, its address exported for the ALSA
    `pulse` plugin of this process; stopped and checked gone afterwards."""
    daemon = PrivatePulse(tmp_path_factory.mktemp("pulse"))
    try:
        daemon.start()
    except PulseStartError as error:
        pytest.fail(f"private PulseAudio did not start: {error}", pytrace=False)
    saved = {key: os.environ.get(key) for key in daemon.client_env()}
    os.environ.update(daemon.client_env())
    process = daemon.process
    try:
        yield daemon
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
        daemon.stop()
        assert process.poll() is not None, "PulseAudio daemon still running after stop()"


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
