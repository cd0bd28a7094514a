"""The screen in front of the whole kiosk: `appliance sim --screen` watched by headless Chromium.

One real-time simulation: the test presses the page's talk button while the
kiosk is idle (no wake word in this script), the caller asks, the answer's
caption advances word by word, and once two words were played the test
presses talk again, which must cut the agent like the GPIO button does (after
two words: the demo site's breakfast answer starts with the chunk "Breakfast is
served", so the cut always leaves a placed word unsaid); the
page's caption must then stop at exactly the words the `barge_in_stop` event
says were heard. (The button, not the caller's voice, makes the cut: whether
the detector confirms a spoken interruption is the barge-in tests' business.)
"""

from __future__ import annotations

import io
import statistics
import threading

import pytest
from browser import BrowserUnavailable, open_browser, wait_for
from test_page import free_port, shown

from appliance.config import Config, ScreenSettings
from appliance.runtime.script import load_script
from appliance.runtime.sim import run_sim

pytestmark = pytest.mark.slow   # every model, in real time

SCRIPT = """
[[line]]
text = "Hi. Can you tell me about breakfast?"
voice = "piper"
at_s = 9.0
expect = "asked after the screen's talk button, with no wake word"
"""


class Console(io.StringIO):
    """The sim's console; `serving` is set once it printed the screen's address."""

    def __init__(self) -> None:
        super().__init__()
        self.serving = threading.Event()

    def write(self, text: str) -> int:
        if text.startswith("screen: http"):
            self.serving.set()
        return super().write(text)


@pytest.fixture(scope="module")
def watched(tmp_path_factory):
    out = tmp_path_factory.mktemp("screen-sim")
    (out / "script.toml").write_text(SCRIPT)
    port = free_port()
    config = Config(screen=ScreenSettings(enabled=True, port=port, idle_clear_s=600.0))
    try:
        driver = open_browser(out / "profile")
    except BrowserUnavailable as error:
        pytest.fail(f"headless Chromium cannot start, so the screen is untested: {error}")
    console, results, failures = Console(), [], []

    def simulate() -> None:
        try:
            results.append(run_sim(config, load_script(out / "script.toml"), out / "sim",
                                   realtime=True, console=console))
        except BaseException as error:  # noqa: BLE001 - reported by the fixture
            failures.append(error)
            console.serving.set()

    thread = threading.Thread(target=simulate, name="sim", daemon=True)
    thread.start()
    try:
        assert console.serving.wait(300), "the sim never served its screen"
        assert not failures, failures
        driver.get(f"http://127.0.0.1:{port}/")
        wait_for(driver, "document.body.dataset.ready === 'true' && document.body.dataset.state === 'idle'",
                 timeout=60, what="the page never showed the kiosk ready and idle")
        driver.find_element("id", "talk").click()
        wait_for(driver, "document.body.dataset.state === 'speaking' && "
                 "Number(document.getElementById('reply').dataset.heard) >= 2", timeout=120,
                 what="the page never showed two words of an answer played")
        driver.find_element("id", "talk").click()
        wait_for(driver, "document.getElementById('reply').dataset.cut === 'true'", timeout=30,
                 what="the talk button did not cut the agent (a reply of two words or fewer?)")
        cut_page = shown(driver)
        thread.join(timeout=300)
        assert not thread.is_alive(), "the sim did not finish"
        assert not failures, failures
        log = driver.execute_script("return window.screenLog;")
    finally:
        driver.quit()
    latencies = [entry["latency_ms"] for entry in log]
    print(f"\nevent-to-frame latency in the browser: median {statistics.median(latencies):.0f} ms, "
          f"max {max(latencies):.0f} ms over {len(latencies)} views; "
          f"server CPU {results[0].screen_cpu_s * 1e3:.0f} ms")
    return results[0], cut_page, log


def test_talk_button_reaches_the_kiosk_as_push_to_talk(watched):
    result, _, _ = watched
    events = [record["event"] for record in result.records]
    ready = events.index("ready")
    first_state = next(r for r in result.records[ready:] if r["event"] == "state")
    assert first_state["state"] == "listening", "the press did not start listening"
    assert "wake" not in events, "a wake word, not the button, opened the conversation"
    assert "agent_speech_start" in events, "the question asked after the press was not answered"


def test_caption_advances_word_by_word_while_the_agent_speaks(watched):
    _, _, log = watched
    before_cut = log[:next(i for i, entry in enumerate(log) if entry["cut"])]
    counts = []
    for entry in before_cut:
        if entry["state"] == "speaking" and (not counts or entry["heard"] != counts[-1]):
            counts.append(entry["heard"])
    assert len([count for count in counts if count > 0]) >= 2, counts
    assert counts == sorted(counts), f"the caption went backwards: {counts}"


def test_caption_stops_at_the_heard_words_after_the_cut(watched):
    result, cut_page, _ = watched
    stop = next(r for r in result.records if r["event"] == "barge_in_stop")
    assert stop["source"] == "push_to_talk"
    assert stop["heard_text"], "the cut came before any word was heard"
    assert " ".join(cut_page["heard"]) == stop["heard_text"]
    assert cut_page["unsaid"], "nothing of the reply was left unsaid to fade"
    assert stop["reply_text"].split() == cut_page["heard"] + cut_page["unsaid"]
