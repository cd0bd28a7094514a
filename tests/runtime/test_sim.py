"""`appliance sim` end to end: the real kiosk in the simulated room with the default script."""

from __future__ import annotations

import io
import json

import numpy as np
import pytest
import soundfile

from appliance.config import Config
from appliance.errors import ConfigError
from appliance.messages import SAMPLE_RATE_HZ
from appliance.runtime.script import load_script
from appliance.runtime.sim import run_sim

pytestmark = pytest.mark.slow   # whole simulated conversations with every model


@pytest.fixture(scope="module")
def sim(tmp_path_factory):
    out = tmp_path_factory.mktemp("sim")
    console = io.StringIO()
    result = run_sim(Config(), load_script(), out, console=console)
    return result, console.getvalue()


def _events(result, name):
    return [record for record in result.records if record["event"] == name]


def test_default_script_cuts_the_agent_and_replans(sim):
    """What holds for any reply the model gives: the cut lands in the agent's speech, keeps
    a prefix of the reply as heard, and the re-plan starts once the caller has finished."""
    result, _ = sim
    records = result.records
    stops = [i for i, record in enumerate(records) if record["event"] == "barge_in_stop"]
    assert stops, "the correction never cut the agent"
    first = records[stops[0]]
    speaking = [r["t"] for r in records[:stops[0]] if r["event"] == "agent_speech_start"]
    assert speaking and speaking[-1] <= first["onset_t"] <= first["t"], "the cut was not during speech"
    assert first["heard_text"], "the cut came before the caller heard a word"
    assert first["reply_text"].startswith(first["heard_text"])
    correction = next(s for s in result.spoken if s.line.after_agent_word is not None)
    after = [record["event"] for record in records[stops[0]:]]
    assert "replan" in after
    assert after.index("replan") < after.index("agent_speech_start")
    replan = records[stops[0] + after.index("replan")]
    assert replan["t"] >= correction.speech_end / SAMPLE_RATE_HZ, "re-planned before the caller finished"


def test_history_holds_only_what_was_heard(sim):
    result, _ = sim
    stop = next(r for r in result.records if r["event"] == "barge_in_stop")
    interrupted = [m for m in result.history if m.interrupted]
    assert interrupted and interrupted[0].text == stop["heard_text"]


def test_nothing_stale_plays_after_a_cut(sim):
    result, _ = sim
    speaker, _ = soundfile.read(result.out_dir / "conversation.wav", dtype="int16", always_2d=True)
    speaker = speaker[:, 0]
    records = result.records
    for index, record in enumerate(records):
        if record["event"] != "barge_in_stop":
            continue
        following = [r for r in records[index + 1:] if r["event"] == "state" and r["state"] == "speaking"]
        quiet_from = int((record["t"] + 0.1) * SAMPLE_RATE_HZ)   # fade and card queue
        quiet_to = int(following[0]["t"] * SAMPLE_RATE_HZ) if following else len(speaker)
        assert quiet_to > quiet_from
        assert np.abs(speaker[quiet_from:quiet_to]).max() < 100, "old audio played after the cut"


def test_outputs_are_written(sim):
    result, console = sim
    lines = (result.out_dir / "events.jsonl").read_text().splitlines()
    assert [json.loads(line) for line in lines] == result.records
    assert all({"t", "event"} <= set(json.loads(line)) for line in lines)
    audio, rate = soundfile.read(result.out_dir / "conversation.wav", always_2d=True)
    assert rate == SAMPLE_RATE_HZ and audio.shape[1] == 2
    assert (result.out_dir / "timeline.png").read_bytes().startswith(b"\x89PNG")
    assert "CUT" in console and "CALLER" in console


def test_the_wake_word_opens_the_conversation(sim):
    result, _ = sim
    names = [record["event"] for record in result.records]
    assert "wake" in names
    assert names.index("wake") < names.index("transcript")


def test_a_script_without_a_trigger_names_the_line(tmp_path):
    script = tmp_path / "bad.toml"
    script.write_text('[[line]]\ntext = "hello"\n')
    with pytest.raises(ConfigError, match=r"line\[0\]"):
        load_script(script)


def test_a_script_with_an_unknown_key_names_it(tmp_path):
    script = tmp_path / "bad.toml"
    script.write_text('[[line]]\ntext = "hello"\nat_s = 1\nvolume = 3\n')
    with pytest.raises(ConfigError, match=r"line\[0\]\.volume"):
        load_script(script)
