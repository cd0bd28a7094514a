"""`appliance bench` end to end: the project suite against the contract, and a malformed file.

The full suite runs once per test session (it is also what CI runs); the
report is checked against BENCH.md's keys and every interrupt scenario of the
project suite must be detected (stopped, never missed). Timings are reported
by the bench, not asserted here.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from appliance.cli import main

pytestmark = pytest.mark.slow   # the whole benchmark suite through every model

SUITE = Path(__file__).resolve().parent / "suite"
ROW_KEYS = {"name", "kind", "outcome", "onset_to_duck_ms", "onset_to_silence_ms",
            "heard_words_truth", "heard_words_recorded", "erle_db"}
SUMMARY_KEYS = {"interrupt", "backchannel", "false_stops", "agent_speech_s",
                "max_truncation_error_words", "median_erle_db", "frontend_rtf"}
INTERRUPT_KEYS = {"n", "stopped", "missed", "p50_onset_to_duck_ms", "p50_onset_to_silence_ms",
                  "p95_onset_to_silence_ms"}
OUTCOMES = {"stopped", "resumed", "continued", "missed", "false_stop"}


@pytest.fixture(scope="module")
def suite_report(tmp_path_factory) -> tuple[int, dict, Path]:
    out = tmp_path_factory.mktemp("bench")
    code = main(["bench", str(SUITE), "--json", str(out / "report.json"),
                 "--plot", str(out / "report.png")])
    return code, json.loads((out / "report.json").read_text()), out / "report.png"


def test_report_has_exactly_the_contract_keys(suite_report):
    code, report, plot = suite_report
    assert code == 0
    assert set(report) == {"scenarios", "summary"}
    assert set(report["summary"]) == SUMMARY_KEYS
    assert set(report["summary"]["interrupt"]) == INTERRUPT_KEYS
    assert set(report["summary"]["backchannel"]) == {"n", "resumed", "stopped"}
    assert len(report["scenarios"]) == len(list(SUITE.glob("*.toml")))
    for row in report["scenarios"]:
        assert set(row) == ROW_KEYS
        assert row["outcome"] in OUTCOMES
        for key in ("onset_to_duck_ms", "onset_to_silence_ms", "erle_db"):
            assert row[key] is None or isinstance(row[key], float)
    assert plot.stat().st_size > 10_000 and plot.read_bytes()[:4] == b"\x89PNG"
    pages = sorted(path.stem for path in (plot.parent / "report-scenarios").glob("*.png"))
    assert pages == sorted(row["name"] for row in report["scenarios"])


def test_every_interrupt_in_the_project_suite_is_detected(suite_report):
    _, report, _ = suite_report
    interrupts = [row for row in report["scenarios"] if row["kind"] == "interrupt"]
    assert len(interrupts) >= 12
    # Known and open: a German "Auge" 15 dB under the echo in an RT60 0.8 s lobby, and a
    # one-word "nose" under a clipping loudspeaker at +10 dB echo (stopped only with the
    # experimental duck_vad_threshold = 0.3, which is off by default).
    # Listed by name so that any other interrupt that is not stopped fails this test.
    known_misses = {"rv-int-lobby-eye-quiet15", "rv-int-simple-nose-clip"}
    assert [row["name"] for row in interrupts
            if row["outcome"] != "stopped" and row["name"] not in known_misses] == []
    assert all(row["onset_to_silence_ms"] is not None for row in interrupts
               if row["name"] not in known_misses)
    summary = report["summary"]["interrupt"]
    assert summary["n"] == len(interrupts)
    assert summary["stopped"] >= summary["n"] - len(known_misses)


def test_summary_is_consistent_with_the_rows(suite_report):
    _, report, _ = suite_report
    rows, summary = report["scenarios"], report["summary"]
    assert summary["false_stops"] == sum(row["outcome"] == "false_stop" for row in rows)
    assert summary["backchannel"]["n"] == sum(row["kind"] == "backchannel" for row in rows)
    assert summary["agent_speech_s"] > 0 and 0 < summary["frontend_rtf"] < 1


def test_a_malformed_scenario_is_one_line_and_the_others_still_run(tmp_path, capsys):
    shutil.copytree(SUITE / "audio", tmp_path / "audio")
    shutil.copy(SUITE / "int-basic.toml", tmp_path / "int-basic.toml")
    (tmp_path / "broken.toml").write_text((SUITE / "int-early-1s.toml").read_text().replace(
        'kind = "interrupt"', 'kind = "interruption"'))
    code = main(["bench", str(tmp_path), "--json", str(tmp_path / "report.json")])
    report = json.loads((tmp_path / "report.json").read_text())
    assert code == 1
    assert [row["name"] for row in report["scenarios"]] == ["int-basic"]
    assert report["summary"]["interrupt"]["n"] == 1
    error_lines = [line for line in capsys.readouterr().err.splitlines() if "broken.toml" in line]
    assert len(error_lines) == 1 and ": kind: expected one of" in error_lines[0]
