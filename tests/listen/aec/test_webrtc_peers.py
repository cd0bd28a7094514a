"""WebRTC's cancellers behind the kiosk's `EchoCanceller`: their real work, only with `--peers`.

These run the optional peers (`make peers`, then `make test-peers`); `make test`
deselects them and says so. Selected without the peers installed, each fails
with the install step. Speex runs the same checks as the reference.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest

from appliance.audiofile import read_wav
from appliance.cli import main
from appliance.config import AecSettings
from appliance.listen.aec.calibration import calibration_burst
from appliance.listen.aec.canceller import EchoCanceller

pytestmark = pytest.mark.peers

PERIOD = 160
DEVICE_DELAY = 4800
SUITE = Path(__file__).resolve().parents[2] / "bench" / "suite"
PEERS = ("webrtc-aec3", "webrtc-legacy")


def _db(samples: np.ndarray) -> float:
    return float(10 * np.log10(np.mean(samples.astype(float) ** 2) + 1e-9))


def _echo_then_caller(caller_at_s: float = 6.0) -> tuple[np.ndarray, np.ndarray, np.ndarray, int]:
    """Far end (8 s of speech-shaped noise), mic = delayed echo + a real caller from `caller_at_s`."""
    far = calibration_burst(8.0, -20.0)
    mic = np.zeros(len(far))
    lag = DEVICE_DELAY + 48
    mic[lag:] = far[:-lag] * 0.7
    at = int(caller_at_s * 16000)
    caller = read_wav(SUITE / "audio" / "actually_pool.wav").astype(float)[: len(far) - at]
    mic[at:at + len(caller)] += caller
    return far, np.clip(mic, -32768, 32767).astype(np.int16), caller, at


def _cancel(engine: str, far: np.ndarray, mic: np.ndarray) -> np.ndarray:
    with EchoCanceller(AecSettings(engine=engine)) as canceller:
        periods = [canceller.process(mic[i:i + PERIOD], far[i:i + PERIOD], DEVICE_DELAY).cleaned
                   for i in range(0, len(far) - PERIOD + 1, PERIOD)]
    return np.concatenate(periods)


@pytest.mark.parametrize("engine", ("speex", *PEERS))
def test_a_peer_removes_the_echo_and_keeps_the_caller(engine):
    far, mic, caller, at = _echo_then_caller()
    cleaned = _cancel(engine, far, mic)
    echo_only = slice(5 * 16000, 6 * 16000)
    assert _db(mic[echo_only]) - _db(cleaned[echo_only]) > 20.0
    # The caller speaks 5 dB under the echo; what is left of them must not be erased.
    count = min(len(caller), len(cleaned) - at)
    assert _db(cleaned[at:at + count]) - _db(caller[:count]) > -20.0


@pytest.mark.parametrize("engine", PEERS)
def test_bench_runs_a_peer_behind_the_same_detector(engine, tmp_path):
    shutil.copytree(SUITE / "audio", tmp_path / "audio")
    shutil.copy(SUITE / "int-basic.toml", tmp_path / "int-basic.toml")
    code = main(["bench", str(tmp_path), "--json", str(tmp_path / "report.json"), "--aec", engine])
    report = json.loads((tmp_path / "report.json").read_text())
    assert code == 0
    assert [row["name"] for row in report["scenarios"]] == ["int-basic"]
    assert report["scenarios"][0]["outcome"] in {"stopped", "missed", "resumed", "continued"}
