"""`appliance sim --soak`: what it counts, and its input checks. The soak itself is the
slow tier (`make soak`, one simulated hour); see docs/reliability.md."""

from __future__ import annotations

import dataclasses
import json

import pytest

from appliance.cli import main
from appliance.config import Config
from appliance.runtime.soak import (
    CallerVoice,
    Sample,
    Tally,
    load_samples,
    process_figures,
    run_soak,
    summary,
    table,
)


def feed(tally: Tally, *events: tuple[str, str]) -> Tally:
    for name, text in events:
        tally({"t": 0.0, "event": name, "text": text})
    return tally


def test_a_request_with_no_reply_before_the_next_transcript_is_a_lost_turn():
    tally = feed(Tally(), ("transcript", "when is breakfast"), ("agent_speech_start", "At seven."),
                 ("agent_speech_end", "At seven."), ("transcript", "where is the gym"),
                 ("transcript", "hello are you there"), ("agent_speech_start", "Yes."))
    assert tally.lost_turns == 1 and tally.turns == 1


def test_backchannels_and_silence_are_not_lost_turns():
    tally = feed(Tally(), ("transcript", "okay"), ("transcript", ""), ("transcript", "mm-hmm"),
                 ("barge_in_stop", ""), ("error", ""))
    assert tally.lost_turns == 0 and tally.barge_ins == 1 and tally.errors == 1


def test_each_caller_line_is_synthesised_once():
    asked: list[str] = []

    def synthesize(text: str):
        asked.append(text)
        yield text.upper()

    voice = CallerVoice(synthesize)
    assert [voice("hi"), voice("bye"), voice("hi")] == [["HI"], ["BYE"], ["HI"]]
    assert asked == ["hi", "bye"]


def test_process_figures_come_from_proc():
    rss_mb, threads, fds = process_figures()
    assert rss_mb > 10 and threads >= 1 and fds >= 3


def test_summary_reports_growth_after_warm_up():
    samples = [Sample(0, 0, 0, 0, 0, 0, 500.0, 6, 12), Sample(600, 60, 5, 1, 0, 0, 800.0, 6, 12),
               Sample(3600, 400, 40, 9, 0, 0, 820.0, 6, 12)]
    line = summary(samples)
    assert "+2.5 %" in line and "40 turns" in line and "threads 6 -> 6" in line


def test_summary_tells_a_passing_worker_thread_from_growth():
    samples = [Sample(600 * i, 60 * i, i, 0, 0, 0, 800.0, threads, 12)
               for i, threads in enumerate((5, 5, 6, 5, 5, 5))]
    assert "threads 5 -> 5 (max 6, above 5 in 1 of 5 samples)" in summary(samples)


def test_table_picks_one_row_per_half_hour_and_the_last(tmp_path):
    samples = [Sample(t, t / 2, t // 60, 0, 0, 0, 500.0 + t / 600, 5, 7)
               for t in (4.5, 300.0, 1500.0, 1800.0, 2100.0, 3600.0, 3900.0)]
    path = tmp_path / "soak.json"
    path.write_text(json.dumps({"hours": 8.0, "seed": 0,
                                "samples": [dataclasses.asdict(s) for s in samples]}))
    rows = table(load_samples(path)).splitlines()[2:]
    assert [row.split("|")[1].strip() for row in rows] == ["0.00", "0.50", "1.00", "1.08"]
    assert rows[-1].split("|")[7].strip() == "506"   # RSS MB of the last sample


def test_table_shows_a_closing_sample_on_the_same_second_once():
    samples = [Sample(t, t / 2, 0, 0, 0, 0, 500.0, 5, 7) for t in (0.0, 1800.0, 3600.0, 3600.0)]
    assert [row.split("|")[1].strip() for row in table(samples).splitlines()[2:]] == [
        "0.00", "0.50", "1.00"]


def test_soak_hours_out_of_range_is_exit_2(capsys):
    assert main(["sim", "--soak", "0"]) == 2
    assert "--soak" in capsys.readouterr().err


@pytest.mark.slow   # three simulated minutes of the whole kiosk (make soak runs an hour)
def test_a_short_soak_answers_loses_nothing_and_writes_its_figures(tmp_path):
    samples = run_soak(Config(), 0.05, tmp_path, sample_every_s=30.0, say=lambda line: None)
    written = load_samples(tmp_path / "soak.json")
    assert written == samples and len(samples) >= 6
    last = samples[-1]
    assert last.sim_s >= 180.0
    assert last.turns >= 1, "the kiosk answered nothing in three minutes"
    assert (last.errors, last.lost_turns) == (0, 0)
    assert last.fds == samples[0].fds
    events = [json.loads(line) for line in (tmp_path / "events.jsonl").read_text().splitlines()]
    assert sum(e["event"] == "agent_speech_end" for e in events) == last.turns
