"""The screen's view and server without a browser: what the page is told, and when."""

from __future__ import annotations

import json
import threading
import urllib.request

from test_page import WORD_SAMPLES, chunk, free_port

from appliance.agent.history import ChunkPlacement
from appliance.config import ScreenSettings
from appliance.runtime.screen.server import ScreenServer
from appliance.runtime.screen.view import ScreenView


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def speaking_view(settings: ScreenSettings, clock: Clock, views: list) -> ScreenView:
    view = ScreenView(settings, views.append, clock=clock)
    view.on_event({"event": "transcript", "text": "is there parking"})
    view.on_event({"event": "state", "state": "thinking"})
    view.on_placed(ChunkPlacement(0, chunk("Guests park in the garage.")))
    view.on_event({"event": "state", "state": "speaking"})
    return view


def test_words_light_up_only_once_their_last_sample_was_played():
    views: list = []
    view = speaking_view(ScreenSettings(), Clock(), views)
    view.tick(WORD_SAMPLES - 1)
    assert view.current["reply"]["heard"] == 0
    view.tick(WORD_SAMPLES)
    assert view.current["reply"]["heard"] == 1
    published = len(views)
    view.tick(WORD_SAMPLES + 10)                    # nothing new: nothing published
    assert len(views) == published


def test_a_second_chunk_continues_the_same_caption():
    view = speaking_view(ScreenSettings(), Clock(), [])
    view.on_placed(ChunkPlacement(5 * WORD_SAMPLES, chunk("It costs fifteen dollars.")))
    view.tick(7 * WORD_SAMPLES)
    assert view.current["reply"]["words"][5:] == ["It", "costs", "fifteen", "dollars."]
    assert view.current["reply"]["heard"] == 7


def test_the_cut_freezes_the_caption_at_the_events_played_samples():
    view = speaking_view(ScreenSettings(), Clock(), [])
    view.on_event({"event": "barge_in_stop", "played_samples": 2 * WORD_SAMPLES + 5,
                   "heard_text": "Guests park"})
    view.tick(5 * WORD_SAMPLES)                      # the fade-out still counts samples
    assert view.current["reply"] == {"words": ["Guests", "park", "in", "the", "garage."],
                                     "heard": 2, "cut": True}
    assert view.first_cut is None
    view.on_event({"event": "state", "state": "yielding"})
    assert view.first_cut == view.current and view.first_cut["state"] == "yielding"


def test_an_idle_screen_forgets_the_guest_after_idle_clear_s():
    clock = Clock()
    view = speaking_view(ScreenSettings(idle_clear_s=20.0), clock, [])
    view.on_event({"event": "agent_speech_end"})
    view.on_event({"event": "state", "state": "idle"})
    clock.now += 19.9
    view.tick(0)
    assert view.current["caller"]["text"] == "is there parking"
    clock.now += 0.1
    view.tick(0)
    assert view.current["caller"]["text"] == "" and view.current["reply"]["words"] == []


def test_a_new_turn_before_idle_clear_s_keeps_nothing_stale():
    clock = Clock()
    view = speaking_view(ScreenSettings(idle_clear_s=20.0), clock, [])
    view.on_event({"event": "state", "state": "idle"})
    clock.now += 5
    view.on_event({"event": "state", "state": "listening"})
    clock.now += 60                                  # not idle: nothing is cleared
    view.tick(0)
    assert view.current["caller"]["text"] == "is there parking"
    view.on_event({"event": "state", "state": "thinking"})
    assert view.current["reply"]["words"] == []


def test_publish_never_blocks_and_keeps_the_newest_views():
    settings = ScreenSettings(port=free_port(), queue_views=4)
    server = ScreenServer(settings, on_talk=lambda: None)   # not started: nobody drains
    for seq in range(100):
        server.publish({"seq": seq})
    assert [view["seq"] for view in server._pending] == [96, 97, 98, 99]


def test_a_page_connecting_before_any_event_gets_a_whole_view():
    settings = ScreenSettings(port=free_port())
    server = ScreenServer(settings, on_talk=lambda: None)
    ScreenView(settings, server.publish, site_name="Before")     # published before the start
    with server:
        stream = urllib.request.urlopen(server.url + "events", timeout=10)
        line = b""
        while not line.startswith(b"data:"):
            line = stream.readline()
        stream.close()
    view = json.loads(line.removeprefix(b"data:"))
    assert view["site"] == "Before" and view["reply"]["words"] == [] and view["seq"] == 0


def test_close_returns_with_a_page_still_listening():
    settings = ScreenSettings(port=free_port())
    server = ScreenServer(settings, on_talk=lambda: None).start()
    ScreenView(settings, server.publish).on_event({"event": "ready"})
    stream = urllib.request.urlopen(server.url + "events", timeout=10)
    first = b""
    while b"data:" not in first:
        first += stream.readline()
    thread = server._thread
    closing = threading.Thread(target=server.close)
    closing.start()
    closing.join(timeout=30)
    assert not closing.is_alive() and thread is not None and not thread.is_alive(), \
        "an open event stream held the server up"
    stream.close()
