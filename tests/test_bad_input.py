"""Hostile and careless input (issue 15): one line naming the file and the key, exit 2, nothing lost.

Each test reproduces one defect found by trying the commands as a new user
would; each failed before its fix (a traceback, a wrong exit code, or a
result computed and then lost).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from appliance.audio.calibrate import calibrate
from appliance.audio.room import RoomSettings, SimulatedRoom
from appliance.audiofile import write_wav
from appliance.bench.scenario import load_scenario
from appliance.cli import main
from appliance.config import AudioSettings, Config
from appliance.errors import AudioDeviceError, ConfigError, ModelError
from appliance.models import load_manifest
from appliance.runtime.doctor import FAIL, OK, check_models
from appliance.speech.tts import Synthesizer

SUITE = Path(__file__).parent / "bench" / "suite"


def one_line_error(capsys, *fragments: str) -> str:
    """The CLI's stderr is a single `appliance: ...` line containing every fragment."""
    err = capsys.readouterr().err.strip()
    assert "Traceback" not in err
    assert len(err.splitlines()) == 1, err
    assert err.startswith("appliance: "), err
    for fragment in fragments:
        assert fragment in err, err
    return err


def write_config(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "appliance.toml"
    path.write_text(text)
    return path


# -- configuration files ----------------------------------------------------------


def test_config_check_of_a_directory_is_one_line_exit_2(tmp_path, capsys):
    assert main(["config", "check", str(tmp_path)]) == 2
    one_line_error(capsys, str(tmp_path), "not a directory")


def test_config_of_non_utf8_bytes_is_one_line_exit_2(tmp_path, capsys):
    path = tmp_path / "latin1.toml"
    path.write_bytes(b"[llm]\nsystem_prompt = \"caf\xe9\"\n")
    assert main(["config", "check", str(path)]) == 2
    one_line_error(capsys, str(path), "UTF-8")


def test_sim_script_that_is_a_directory_is_one_line_exit_2(tmp_path, capsys):
    assert main(["sim", "--script", str(tmp_path), "--out", str(tmp_path / "out")]) == 2
    one_line_error(capsys, str(tmp_path), "not a directory")


@pytest.mark.parametrize("value", ["nan", "inf", "-inf"])
def test_nan_and_infinity_fail_config_validation(tmp_path, capsys, value):
    path = write_config(tmp_path, f"[aec]\npretrain_s = {value}\n")
    assert main(["config", "check", str(path)]) == 2
    one_line_error(capsys, str(path), "aec.pretrain_s", "finite")


def test_nan_in_a_scenario_is_a_config_error_for_that_file_only(tmp_path):
    source = (SUITE / "bc-okay.toml").read_text()
    assert "caller_at_s" in source
    lines = [("caller_at_s = nan" if line.startswith("caller_at_s") else line)
             for line in source.splitlines()]
    (tmp_path / "audio").symlink_to(SUITE / "audio")
    path = tmp_path / "nan.toml"
    path.write_text("\n".join(lines) + "\n")
    with pytest.raises(ConfigError) as error:
        load_scenario(path)
    assert error.value.key == "caller_at_s" and "finite" in error.value.expected


# -- output paths, checked before the work -----------------------------------------


def test_bench_checks_its_outputs_before_reading_the_suite(tmp_path, capsys):
    # An empty suite would fail too: the --json error coming first proves the
    # output is checked before any scenario is loaded or run.
    blocker = tmp_path / "a-file"
    blocker.write_text("x")
    assert main(["bench", str(tmp_path), "--json", str(blocker / "r.json")]) == 2
    one_line_error(capsys, "--json", "is not a directory")
    assert main(["bench", str(tmp_path), "--json", str(tmp_path / "r.json"),
                 "--plot", str(tmp_path / "out.txt")]) == 2
    one_line_error(capsys, "--plot", ".png")


def test_an_empty_bench_suite_is_an_error_not_an_empty_report(tmp_path, capsys):
    report = tmp_path / "out" / "r.json"
    assert main(["bench", str(tmp_path), "--json", str(report)]) == 2
    one_line_error(capsys, str(tmp_path), "at least one *.toml")
    assert not report.exists()


@pytest.mark.parametrize("out", ["x.txt", "folder", "under-a-file/x.wav"])
def test_say_checks_out_before_synthesising(tmp_path, capsys, out):
    (tmp_path / "folder.wav").mkdir()
    (tmp_path / "under-a-file").write_text("x")
    target = tmp_path / ("folder.wav" if out == "folder" else out)
    assert main(["say", "hi", "--out", str(target)]) == 2
    one_line_error(capsys, "--out")


def test_models_install_into_a_path_under_a_file_is_one_line_exit_2(tmp_path, capsys):
    blocker = tmp_path / "hostname"
    blocker.write_text("x")
    assert main(["models", "--dir", str(blocker / "models"), "install"]) == 2
    one_line_error(capsys, str(blocker / "models"), "writable")


def test_broken_pipe_is_quiet(tmp_path):
    # The reader closes its end before the kiosk writes: every write fails with EPIPE.
    read_end, write_end = os.pipe()
    os.close(read_end)
    done = subprocess.run([sys.executable, "-m", "appliance", "config", "example"],
                          stdout=write_end, stderr=subprocess.PIPE, text=True, timeout=60)
    os.close(write_end)
    assert "Traceback" not in done.stderr and "BrokenPipe" not in done.stderr, done.stderr
    assert done.returncode == 141


# -- models ------------------------------------------------------------------------


def test_corrupt_custom_wake_model_is_a_model_error(tmp_path, capsys):
    model = tmp_path / "my_wake.onnx"
    model.write_bytes(b"not an onnx graph")
    wav = tmp_path / "quiet.wav"
    write_wav(wav, np.zeros(16000, np.int16))
    config = write_config(tmp_path, f'[wake]\nmodel = "{model}"\n')
    assert main(["--config", str(config), "wake", str(wav)]) == 2
    one_line_error(capsys, str(model), "wake.model")


def test_a_broken_voice_json_is_blamed_on_the_json(tmp_path):
    models_dir = tmp_path / "models"
    models_dir.mkdir()
    (models_dir / "custom.onnx").write_bytes(b"whatever")
    (models_dir / "custom.onnx.json").write_text("{ not json")
    config = Config()
    settings = type(config.tts)(voice="custom")
    with pytest.raises(ModelError, match=r"custom\.onnx\.json: not a piper voice config"):
        Synthesizer(settings, models_dir)


def test_models_list_shows_a_truncated_file_as_wrong_size(tmp_path, capsys):
    entry = next(e for e in load_manifest() if e.size and not e.is_directory)
    (tmp_path / entry.file).parent.mkdir(parents=True, exist_ok=True)
    (tmp_path / entry.file).write_bytes(b"\0" * 1000)
    assert main(["models", "--dir", str(tmp_path), "list"]) == 0
    row = next(line for line in capsys.readouterr().out.splitlines() if entry.file in line)
    assert "WRONG SIZE" in row and "0.0 MB" in row


def test_doctor_checks_the_configured_models_and_fails_its_summary(tmp_path):
    config = Config(llm=type(Config().llm)(model=str(tmp_path / "missing.gguf")))
    findings = list(check_models(config))
    assert any(f.level == FAIL and f.message.startswith("llm.model:") for f in findings)
    assert findings[-1].level == FAIL, findings[-1]

    empty = Config(service=type(Config().service)(models_dir=str(tmp_path)))
    summary = list(check_models(empty))[-1]
    assert summary.level == FAIL and summary.message.startswith("0 of ")
    assert list(check_models(Config()))[-1].level == OK   # the installed checkout is fine


# -- audio files, devices and exit codes ---------------------------------------------


def test_a_missing_wav_says_so_and_exits_2(tmp_path, capsys):
    assert main(["transcribe", str(tmp_path / "nope.wav")]) == 2
    one_line_error(capsys, "nope.wav", "file does not exist")


def test_wake_exits_1_for_no_wake_word_and_2_for_an_error(tmp_path, capsys):
    wav = tmp_path / "quiet.wav"
    write_wav(wav, np.zeros(16000, np.int16))
    assert main(["wake", str(wav)]) == 1
    capsys.readouterr()
    assert main(["wake", str(tmp_path / "missing.wav")]) == 2


def test_calibrate_refuses_a_capture_with_no_echo():
    settings = AudioSettings(backend="sim")
    room = RoomSettings(echo_gain_db=-80, noise="white", noise_dbfs=-20, rt60_s=0.0)
    device = SimulatedRoom(room, settings.period_ms, settings.periods)
    device.open()
    with pytest.raises(AudioDeviceError, match="no echo of the probe"):
        calibrate(device, settings, threaded=False)


def test_calibrate_on_alsa_null_devices_exits_2_without_figures(tmp_path):
    if shutil.which("aplay") is None:
        pytest.fail("alsa-utils missing (make setup installs it)")
    report = tmp_path / "c.json"
    done = subprocess.run([sys.executable, "-m", "appliance", "calibrate", "--backend", "alsa",
                           "--capture", "null", "--playback", "null", "--json", str(report)],
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 2, done.stdout + done.stderr
    assert "no echo of the probe" in done.stderr and "Traceback" not in done.stderr
    assert "echo_delay_ms" not in done.stdout and not report.exists()
