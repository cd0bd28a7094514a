"""`appliance sim --soak`: what it counts, and its input checks. The soak itself is the
slow tier (`make soak`, one simulated hour); see docs/reliability.md."""

from __future__ import annotations

from appliance.cli import main
from appliance.runtime.soak import Sample, Tally, process_figures, summary


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


def test_process_figures_come_from_proc():
    rss_mb, threads, fds = process_figures()
    assert rss_mb > 10 and threads >= 1 and fds >= 3


def test_summary_reports_growth_after_warm_up():
    samples = [Sample(0, 0, 0, 0, 0, 0, 500.0, 6, 12), Sample(600, 60, 5, 1, 0, 0, 800.0, 6, 12),
               Sample(3600, 400, 40, 9, 0, 0, 820.0, 6, 12)]
    line = summary(samples)
    assert "+2.5 %" in line and "40 turns" in line and "threads 6 -> 6" in line


def test_soak_hours_out_of_range_is_exit_2(capsys):
    assert main(["sim", "--soak", "0"]) == 2
    assert "--soak" in capsys.readouterr().err
