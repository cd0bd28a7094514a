"""The command line: every subcommand is listed and has working help."""

from __future__ import annotations

import subprocess
import sys

import pytest

from appliance.cli import build_parser, command_names, main


def test_help_lists_every_subcommand():
    result = subprocess.run([sys.executable, "-m", "appliance", "--help"],
                            capture_output=True, text=True, check=True)
    for name in command_names():
        assert name in result.stdout
    assert {"models", "config", "version"} <= set(command_names())


@pytest.mark.parametrize("name", command_names())
def test_each_subcommand_has_help(name, capsys):
    with pytest.raises(SystemExit) as done:
        build_parser().parse_args([name, "--help"])
    assert done.value.code == 0
    assert name in capsys.readouterr().out


def test_version_names_the_stack(capsys):
    assert main(["version"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("appliance ")
    assert "llama-cpp-python" in out and "onnxruntime" in out


def test_unknown_subcommand_is_a_usage_error():
    result = subprocess.run([sys.executable, "-m", "appliance", "fly"],
                            capture_output=True, text=True)
    assert result.returncode == 2
    assert "invalid choice" in result.stderr
