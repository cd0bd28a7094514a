"""The say / wake / transcribe commands end to end, through `appliance.cli.main`."""

from __future__ import annotations

import json

from appliance.audiofile import read_wav
from appliance.cli import main


def test_say_then_wake_detects_hey_jarvis(tmp_path, capsys):
    wav = tmp_path / "hey.wav"
    assert main(["say", "Hey Jarvis", "--out", str(wav)]) == 0
    assert read_wav(wav).size > 8000
    capsys.readouterr()
    assert main(["wake", str(wav)]) == 0
    assert "hey_jarvis" in capsys.readouterr().out


def test_say_words_prints_one_line_per_word(tmp_path, capsys):
    assert main(["say", "Your room is ready.", "--out", str(tmp_path / "r.wav"), "--words"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert [line.split()[2] for line in lines] == ["Your", "room", "is", "ready."]


def test_say_does_not_speak_ssml_tags(tmp_path, capsys):
    """piper reads plain text: SSML or HTML tags would be read out as "less than speak".
    The words are spoken, the tags dropped (entities decoded), and one line says so."""
    text = '<speak>Rooms &amp; suites. <break time="1s"/> <emphasis>Welcome</emphasis>.</speak>'
    assert main(["say", text, "--out", str(tmp_path / "s.wav"), "--words"]) == 0
    out, err = capsys.readouterr()
    assert [line.split()[2] for line in out.splitlines()] == ["Rooms", "suites.", "Welcome."]
    assert [line for line in err.splitlines() if line.startswith("appliance: say:")] == [
        "appliance: say: piper reads plain text; tags not spoken: <break>, <emphasis>, <speak>"]


def test_say_keeps_text_that_only_looks_like_markup(tmp_path, capsys):
    """A comparison is not a tag: nothing is dropped, nothing is said about tags."""
    assert main(["say", "Rooms 3<5 and 9 > 2.", "--out", str(tmp_path / "a.wav"), "--words"]) == 0
    out, err = capsys.readouterr()
    assert [line.split()[2] for line in out.splitlines()] == ["Rooms", "3<5", "and", "9", "2."]
    assert not [line for line in err.splitlines() if line.startswith("appliance: say:")]


def test_wake_on_speech_without_the_wake_word_exits_1(capsys):
    assert main(["wake", "/usr/share/sounds/alsa/Front_Center.wav"]) == 1
    assert "no hey_jarvis" in capsys.readouterr().err


def test_transcribe_json_has_words_with_times(tmp_path, capsys):
    config = tmp_path / "sphinx.toml"
    config.write_text('[asr]\nbackend = "pocketsphinx"\n')
    recording = "/usr/share/sounds/alsa/Front_Right.wav"
    assert main(["--config", str(config), "transcribe", recording, "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["backend"] == "pocketsphinx"
    assert "right" in report["text"].split()
    ends = [w["end_s"] for w in report["words"]]
    assert ends == sorted(ends) and ends[-1] <= 1.6


def test_transcribe_uses_moonshine_by_default(capsys):
    recording = "/usr/share/sounds/alsa/Front_Center.wav"
    assert main(["transcribe", recording, "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["backend"] == "moonshine"
    assert report["text"].lower().strip(".") == "front center"
    words = report["words"]
    assert [w["word"].lower().strip(".") for w in words] == ["front", "center"]
    assert 0 <= words[0]["start_s"] < words[0]["end_s"] <= words[1]["start_s"] < words[1]["end_s"] <= 1.45


def test_a_file_that_is_not_audio_is_one_line(tmp_path, capsys):
    bogus = tmp_path / "notes.wav"
    bogus.write_text("this is not audio\n")
    assert main(["transcribe", str(bogus)]) == 2   # 2: could not run; wake's 1 is "no wake word"
    assert main(["wake", str(bogus)]) == 2
    lines = capsys.readouterr().err.strip().splitlines()
    assert len(lines) == 2
    assert all("notes.wav" in line and "not a readable audio file" in line for line in lines)
