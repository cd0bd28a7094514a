"""The screen's page in a real headless Chromium, against the real server and view.

The view is driven here with chunks and played-sample counts (no models), so
each test is about the page and the server; `test_sim_screen.py` runs the
whole kiosk behind it.
"""

from __future__ import annotations

import re
import socket
import threading

import numpy as np
import pytest
from browser import wait_for

from appliance.agent.history import ChunkPlacement, split_heard
from appliance.config import ScreenSettings
from appliance.messages import SpeechChunk, WordTiming
from appliance.runtime.screen.server import STATIC_FILES, ScreenServer, static_text
from appliance.runtime.screen.view import ScreenView

WORD_SAMPLES = 4000
REPLY = "Breakfast is served from seven to ten in the Garden Room."


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def chunk(text: str) -> SpeechChunk:
    words = tuple(WordTiming(word, i * WORD_SAMPLES, (i + 1) * WORD_SAMPLES)
                  for i, word in enumerate(text.split()))
    return SpeechChunk(text, np.zeros(len(words) * WORD_SAMPLES, np.int16), 16000, words)


class Served:
    """A view published through a running server, and the talk presses it received."""

    def __init__(self, settings: ScreenSettings) -> None:
        self.settings = settings
        self.presses = threading.Semaphore(0)
        self.server = ScreenServer(settings, self.presses.release).start()
        self.view = ScreenView(settings, self.server.publish, site_name="Harbour View Hotel")

    def restart(self) -> None:
        self.server.close()
        self.server = ScreenServer(self.settings, self.presses.release).start()
        self.view = ScreenView(self.settings, self.server.publish, site_name="Harbour View Hotel")


@pytest.fixture
def served():
    settings = ScreenSettings(enabled=True, port=free_port(), idle_clear_s=600.0)
    served = Served(settings)
    yield served
    served.server.close()


def shown(browser) -> dict:
    return browser.execute_script("""
        const spans = Array.from(document.querySelectorAll('#reply-text span'));
        return {state: document.body.dataset.state,
                heard: spans.filter(s => s.classList.contains('heard')).map(s => s.textContent),
                unsaid: spans.filter(s => s.classList.contains('unsaid')).map(s => s.textContent),
                caller: document.getElementById('caller-text').textContent,
                site: document.getElementById('site').textContent};""")


def test_page_loads_everything_from_the_kiosk(served, browser):
    browser.get(served.server.url)
    served.view.on_event({"event": "ready"})
    wait_for(browser, "document.body.dataset.ready === 'true'", what="the first view never arrived")
    assert shown(browser)["site"] == "Harbour View Hotel"
    resources = browser.execute_script(
        "return performance.getEntriesByType('resource').map(e => e.name);")
    assert resources, "the page fetched nothing (no stylesheet, no script?)"
    assert all(name.startswith(served.server.url) for name in resources), resources
    for name, _ in STATIC_FILES.values():
        text = static_text(name)
        assert not re.search(r"(https?:)?//\w[\w.-]*\.[a-z]{2,}", text), f"{name} names another host"
        assert "@import" not in text and "url(" not in text, f"{name} loads a resource by itself"


def test_caption_follows_played_samples_and_stops_at_the_cut(served, browser):
    browser.get(served.server.url)
    view = served.view
    view.on_event({"event": "ready"})
    view.on_event({"event": "state", "state": "thinking"})
    placement = ChunkPlacement(10_000, chunk(REPLY))
    view.on_placed(placement)
    view.on_event({"event": "state", "state": "speaking"})
    for words in (1, 2, 3, 4):
        view.tick(10_000 + words * WORD_SAMPLES)
        wait_for(browser, f"document.querySelectorAll('#reply-text span.heard').length === {words}",
                 what=f"the caption did not reach word {words}")
    played = 10_000 + 5 * WORD_SAMPLES + WORD_SAMPLES // 2      # half-way through word 6
    heard, _ = split_heard(played, [placement])
    view.on_event({"event": "barge_in_stop", "played_samples": played,
                   "heard_text": " ".join(heard)})
    view.tick(played + 3 * WORD_SAMPLES)                          # the fade-out plays on: ignored
    view.on_event({"event": "state", "state": "yielding"})
    wait_for(browser, "document.body.dataset.state === 'yielding'")
    page = shown(browser)
    assert " ".join(page["heard"]) == " ".join(heard) == "Breakfast is served from seven"
    assert page["unsaid"] == REPLY.split()[5:]


def test_caller_words_show_partial_then_final(served, browser):
    browser.get(served.server.url)
    served.view.on_event({"event": "user_speech_start"})
    served.view.on_event({"event": "transcript", "text": "when is", "final": False})
    wait_for(browser, "document.getElementById('caller').dataset.final === 'false'")
    assert shown(browser)["caller"] == "when is"
    served.view.on_event({"event": "transcript", "text": "when is dinner"})
    wait_for(browser, "document.getElementById('caller').dataset.final === 'true'")
    assert shown(browser)["caller"] == "when is dinner"


def test_talk_button_reaches_the_server(served, browser):
    browser.get(served.server.url)
    wait_for(browser, "document.body.dataset.connected === 'true'")
    browser.find_element("id", "talk").click()
    assert served.presses.acquire(timeout=10), "the press never reached the server"


def test_page_reconnects_after_the_server_restarts(served, browser):
    browser.get(served.server.url)
    served.view.on_event({"event": "transcript", "text": "before the restart"})
    wait_for(browser, "document.getElementById('caller-text').textContent === 'before the restart'")
    served.restart()
    served.view.on_event({"event": "transcript", "text": "after the restart"})
    wait_for(browser, "document.getElementById('caller-text').textContent === 'after the restart'",
             timeout=30, what="the page did not reconnect to the restarted server")


def test_page_forgets_the_guest_when_it_loses_the_kiosk(browser):
    settings = ScreenSettings(enabled=True, port=free_port(), idle_clear_s=1.0)
    served = Served(settings)
    try:
        browser.get(served.server.url)
        served.view.on_event({"event": "transcript", "text": "my room number is 12"})
        wait_for(browser, "document.getElementById('caller-text').textContent !== ''")
    finally:
        served.server.close()
    wait_for(browser, "document.body.dataset.connected === 'false'")
    wait_for(browser, "document.getElementById('caller-text').textContent === ''",
             what="the page kept the guest's words after losing the kiosk")
