"""The peer table without the peers: names agree everywhere, a missing peer is one line and
exit 2 before anything runs, and the comparison table carries the figures it is about."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

from appliance.bench import peers
from appliance.cli import main
from appliance.commands import bench
from appliance.config import AecSettings
from appliance.listen.aec import engine

SUITE = Path(__file__).resolve().parent / "suite"


def test_every_list_of_engine_names_is_the_table():
    names = tuple(engine.ENGINES)
    assert names[0] == "speex" == AecSettings().engine
    field = next(f for f in dataclasses.fields(AecSettings) if f.name == "engine")
    assert field.metadata["choices"] == names
    assert bench.ENGINE_NAMES == names == peers.ENGINES


def test_a_missing_peer_is_one_line_naming_the_install_step(tmp_path, monkeypatch, capsys):
    monkeypatch.setitem(engine.ENGINES, "webrtc-aec3",
                        engine.EngineEntry("appliance.listen.aec.not_installed", "absent", engine.PEERS_HINT))
    code = main(["bench", str(SUITE), "--json", str(tmp_path / "report.json"), "--aec", "webrtc-aec3"])
    lines = capsys.readouterr().err.strip().splitlines()
    assert code == 2
    assert len(lines) == 1 and "webrtc-aec3" in lines[0] and "make peers" in lines[0]
    assert not (tmp_path / "report.json").exists()


def test_an_unknown_engine_is_a_usage_error(tmp_path, capsys):
    with pytest.raises(SystemExit) as exit_info:
        main(["bench", str(SUITE), "--json", str(tmp_path / "r.json"), "--aec", "nlms"])
    assert exit_info.value.code == 2
    assert "--aec" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        peers.main([str(SUITE), "--out", str(tmp_path), "--aec", "speex,nlms"])


def test_the_comparison_row_and_table():
    report = {"summary": {
        "interrupt": {"n": 16, "stopped": 11, "missed": 5, "p50_onset_to_duck_ms": 330.0,
                      "p50_onset_to_silence_ms": 351.0, "p95_onset_to_silence_ms": 1184.0},
        "backchannel": {"n": 3, "resumed": 2, "stopped": 1},
        "false_stops": 0, "median_erle_db": 14.3, "frontend_rtf": 0.094}}
    cpu = {"aec": 0.2, "suppress": 0.1, "vad": 0.5, "detector": 0.1, "wake": 0.04}
    row = peers.comparison_row("speex", "held-back", report, cpu)
    assert row["canceller_cpu_ms_per_period"] == pytest.approx(0.3)
    assert row["frontend_cpu_ms_per_period"] == pytest.approx(0.94)
    table = peers.markdown([row]).splitlines()
    assert len(table) == 3 and table[0].count("|") == len(peers.COLUMNS) + 1
    assert "| speex | held-back | 11/16 | 5 | 0 | 330.0 | 351.0 / 1184.0 | 2/3 | 14.3 |" in table[2]
