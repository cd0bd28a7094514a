"""Offline, verified: the kiosk's real commands open no network socket and write no telemetry.

Each command runs under strace (which sees sockets opened by C and C++ code,
not only by Python's `socket`) with a fresh HOME and without the telemetry
variables in its environment, so the package itself must turn telemetry off.
A control run proves the tracing would have caught an AF_INET socket.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from appliance.offline import OFFLINE_ENVIRONMENT

APPLIANCE = [sys.executable, "-m", "appliance"]
SOCKET_CALL = re.compile(r"\bsocket\((AF_[A-Z0-9]+)")

ONE_QUESTION = """
[[line]]
text = "Hey Jarvis"
at_s = 4.5

[[line]]
text = "Where is breakfast served?"
voice = "piper"
when_agent_silent = true
delay_s = 0.6
"""


def traced(command: list[str], home: Path, log: Path) -> tuple[subprocess.CompletedProcess, list[str]]:
    """Run `command` under strace; returns the result and the families of every socket opened."""
    strace = shutil.which("strace")
    if strace is None:
        pytest.fail("strace is not installed (make setup installs it): the offline test cannot run")
    env = {key: value for key, value in os.environ.items() if key not in OFFLINE_ENVIRONMENT}
    env["HOME"] = str(home)
    result = subprocess.run([strace, "-f", "-qq", "-e", "trace=socket", "-o", str(log), *command],
                            env=env, capture_output=True, text=True, timeout=600)
    return result, SOCKET_CALL.findall(log.read_text())


def test_tracing_sees_a_network_socket(tmp_path: Path) -> None:
    code = "import socket; socket.socket(socket.AF_INET, socket.SOCK_DGRAM).close()"
    result, families = traced([sys.executable, "-c", code], tmp_path, tmp_path / "strace.log")
    assert result.returncode == 0, result.stderr
    assert "AF_INET" in families


@pytest.mark.slow
def test_model_loading_commands_stay_offline(tmp_path: Path) -> None:
    home = tmp_path / "home"
    home.mkdir()
    wav = tmp_path / "hey.wav"
    script = tmp_path / "one_question.toml"
    script.write_text(textwrap.dedent(ONE_QUESTION))
    commands = {
        "say": [*APPLIANCE, "say", "Hey Jarvis, where is the lift?", "--out", str(wav)],
        "wake": [*APPLIANCE, "wake", str(wav)],
        "transcribe": [*APPLIANCE, "transcribe", str(wav)],
        # every model at once: VAD, wake word, ASR, llama.cpp, piper
        "sim": [*APPLIANCE, "sim", "--script", str(script), "--out", str(tmp_path / "sim")],
    }
    for name, command in commands.items():
        result, families = traced(command, home, tmp_path / f"{name}.strace")
        assert result.returncode == 0, f"appliance {name} failed:\n{result.stderr[-2000:]}"
        network = [family for family in families if family not in ("AF_UNIX", "AF_LOCAL")]
        assert not network, f"appliance {name} opened {network} sockets"
    leftovers = sorted(str(path.relative_to(home)) for path in home.rglob("*"))
    assert not [path for path in leftovers if "Microsoft" in path], leftovers


def test_the_service_unit_sets_the_same_variables() -> None:
    unit = (Path(__file__).resolve().parent.parent / "systemd" / "appliance.service").read_text()
    environment = " ".join(line.removeprefix("Environment=") for line in unit.splitlines()
                           if line.startswith("Environment="))
    for key, value in OFFLINE_ENVIRONMENT.items():
        assert f"{key}={value}" in environment.split(), key
