"""Calibration estimators, on synthetic signals and on the simulated room."""

from __future__ import annotations

import json

import numpy as np
import pytest

from appliance.audio.calibrate import calibrate, cut_latency_ms, estimate_echo, probe_signal
from appliance.audio.room import RoomSettings, SimulatedRoom
from appliance.cli import main
from appliance.config import AudioSettings


def test_estimate_echo_finds_a_known_lag_and_gain():
    played = probe_signal(0.5, seed=3)
    captured = np.concatenate([np.zeros(237), played * 0.25])[: played.size + 400]
    echo = estimate_echo(played, captured)
    assert echo.lag_samples == 237
    assert echo.gain_db == pytest.approx(20 * np.log10(0.25), abs=0.01)


@pytest.mark.parametrize("room", [
    RoomSettings(echo_delay_ms=23, echo_gain_db=-6, rt60_s=0.25),
    RoomSettings(echo_delay_ms=7.5, echo_gain_db=4, rt60_s=0.5, noise="pink", noise_dbfs=-50),
    RoomSettings(echo_delay_ms=60, echo_gain_db=-25, rt60_s=0.1, noise="white", noise_dbfs=-70,
                 seed=5),
])
def test_calibration_recovers_the_room_within_1_ms_and_1_db(room):
    settings = AudioSettings(backend="sim")
    device = SimulatedRoom(room, settings.period_ms, settings.periods)
    device.open()
    result = calibrate(device, settings, threaded=False)
    assert result.echo_delay_ms == pytest.approx(room.echo_delay_ms, abs=1.0)
    assert result.echo_gain_db == pytest.approx(room.echo_gain_db, abs=1.0)
    assert result.device_delay_ms == pytest.approx(20.0)  # 2 periods of modelled card buffer


def test_cut_latency_is_when_the_capture_fell_40_db():
    captured = np.concatenate([np.full(1600, 10000.0), np.linspace(10000, 0, 480),
                               np.zeros(1600)])
    latency = cut_latency_ms(captured, cut_sample=1600)
    # linear fall: 40 dB down (100 here) after 99 % of 30 ms, counted in whole 1 ms frames
    assert latency == pytest.approx(30.0, abs=1.0)
    assert cut_latency_ms(np.full(4000, 10000.0), cut_sample=1600) is None


def test_calibrate_command_on_the_simulated_room(tmp_path, capsys):
    report = tmp_path / "calibration.json"
    assert main(["calibrate", "--backend", "sim", "--json", str(report)]) == 0
    figures = json.loads(report.read_text())
    assert figures["echo_delay_ms"] == pytest.approx(RoomSettings().echo_delay_ms, abs=1.0)
    assert figures["cut_latency_ms"] is not None
    assert "echo_gain_db" in capsys.readouterr().out
