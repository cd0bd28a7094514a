"""The systemd unit, sysusers.d and tmpfiles.d files, checked by systemd's own tools.

`systemd-analyze verify` needs ExecStart= to exist, so it runs against a
throw-away root: the host's unit directory (for sysinit.target and friends),
our unit in /etc/systemd/system, and an executable stub where the venv's
`appliance` will be installed. The exposure score comes from
`systemd-analyze security --offline=true`, exactly as the README quotes it.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from pathlib import Path

import pytest

SYSTEMD_DIR = Path(__file__).resolve().parents[2] / "systemd"
UNIT = SYSTEMD_DIR / "appliance.service"
EXEC_START = "/opt/appliance/venv/bin/appliance"
HOST_UNITS = Path("/usr/lib/systemd/system")
SCORE_LINE = re.compile(r"Overall exposure level for appliance\.service: (\d+\.\d) ")


def run(*command: str) -> subprocess.CompletedProcess:
    return subprocess.run(command, capture_output=True, text=True, timeout=60)


def unit_keys(text: str) -> dict[str, list[str]]:
    """Every Key=value of a unit file; systemd allows a key more than once."""
    keys: dict[str, list[str]] = {}
    for line in text.splitlines():
        if "=" in line and not line.lstrip().startswith(("#", ";", "[")):
            key, value = line.split("=", 1)
            keys.setdefault(key.strip(), []).append(value.strip())
    return keys


@pytest.fixture
def unit_root(tmp_path: Path) -> Path:
    shutil.copytree(HOST_UNITS, tmp_path / HOST_UNITS.relative_to("/"), symlinks=True)
    (tmp_path / "etc/systemd/system").mkdir(parents=True)
    stub = tmp_path / EXEC_START.lstrip("/")
    stub.parent.mkdir(parents=True)
    stub.write_text("#!/bin/sh\n")
    stub.chmod(0o755)
    return tmp_path


def verify(root: Path, unit_text: str) -> subprocess.CompletedProcess:
    (root / "etc/systemd/system/appliance.service").write_text(unit_text)
    return run("systemd-analyze", "verify", f"--root={root}", "appliance.service")


def test_systemd_analyze_verify_is_clean(unit_root: Path):
    result = verify(unit_root, UNIT.read_text())
    assert result.returncode == 0, result.stderr
    assert result.stdout + result.stderr == ""


def test_systemd_analyze_verify_would_catch_a_broken_unit(unit_root: Path):
    """The harness itself can fail: a misspelt key is reported on the same check."""
    broken = UNIT.read_text().replace("PrivateNetwork=yes", "PrivateNetwrok=yes")
    result = verify(unit_root, broken)
    assert "Unknown key 'PrivateNetwrok'" in result.stdout + result.stderr


def test_exposure_score_is_at_most_2_0_and_quoted_in_readme():
    result = run("systemd-analyze", "security", "--offline=true", "--threshold=20", "--no-pager",
                 str(UNIT))
    assert result.returncode == 0, result.stdout[-2000:] + result.stderr
    match = SCORE_LINE.search(result.stdout)
    assert match, result.stdout[-500:]
    score = float(match.group(1))
    assert score <= 2.0
    readme = (SYSTEMD_DIR / "README.md").read_text()
    assert f"Overall exposure level for appliance.service: {match.group(1)}" in readme


def test_offline_and_device_access_are_enforced_as_analysed():
    result = run("systemd-analyze", "security", "--offline=true", "--json=short", "--no-pager",
                 str(UNIT))
    checks = {item["name"]: item["set"] for item in json.loads(result.stdout)}
    for must in ("PrivateNetwork=", "IPAddressDeny=", "RestrictAddressFamilies=~AF_(INET|INET6)",
                 "NoNewPrivileges=", "ProtectSystem=", "ProtectHome=", "User=/DynamicUser=",
                 "MemoryDenyWriteExecute=", "CapabilityBoundingSet=~CAP_SYS_ADMIN"):
        assert checks[must], must


def test_unit_is_a_notify_service_with_watchdog_restart_and_realtime():
    keys = unit_keys(UNIT.read_text())
    assert keys["Type"] == ["notify"]
    assert keys["NotifyAccess"] == ["main"]
    assert keys["ExecStart"] == [f"{EXEC_START} run"]
    assert keys["Restart"] == ["on-failure"]
    assert keys["WatchdogSec"] and keys["WatchdogSec"][0] != "0"
    assert keys["StateDirectory"] == ["appliance"]
    assert keys["RestrictRealtime"] == ["no"]
    assert int(keys["LimitRTPRIO"][0]) >= 50  # audio.realtime_priority's default fits
    assert set(keys["DeviceAllow"]) == {"char-alsa rw", "char-gpiochip rw"}
    assert keys["DevicePolicy"] == ["closed"]


def test_sysusers_and_tmpfiles_create_the_user_and_state_in_a_scratch_root(tmp_path: Path):
    """Runs the real systemd-sysusers and systemd-tmpfiles on a scratch root (needs root to chown)."""
    (tmp_path / "etc").mkdir()
    for name in ("passwd", "group"):
        shutil.copy(Path("/etc") / name, tmp_path / "etc" / name)
    for kind in ("sysusers", "tmpfiles"):
        target = tmp_path / f"usr/lib/{kind}.d/appliance.conf"
        target.parent.mkdir(parents=True)
        shutil.copy(SYSTEMD_DIR / f"appliance.{kind}.conf", target)
    sysusers = run("systemd-sysusers", f"--root={tmp_path}", "appliance.conf")
    assert sysusers.returncode == 0, sysusers.stderr
    passwd = (tmp_path / "etc/passwd").read_text()
    user = next(line for line in passwd.splitlines() if line.startswith("appliance:"))
    assert user.endswith(":/var/lib/appliance:/usr/sbin/nologin")
    assert re.search(r"^gpio:", (tmp_path / "etc/group").read_text(), re.M)
    tmpfiles = run("systemd-tmpfiles", f"--root={tmp_path}", "--create", "appliance.conf")
    assert tmpfiles.returncode == 0, tmpfiles.stderr
    models = tmp_path / "var/lib/appliance/models"
    assert models.is_dir()
    assert models.stat().st_uid == int(user.split(":")[2])
