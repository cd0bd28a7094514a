"""The screen's socket unit: verified by systemd, and socket activation into a process with
no network, as `PrivateNetwork=yes` runs the kiosk.

`systemd-socket-activate` plays systemd's part: it listens on 127.0.0.1 in this
network namespace and hands the socket (LISTEN_FDS) to the server, which runs in
a fresh network namespace of its own (`unshare -n`: no interface but a downed
loopback). A client outside must still get the page through the passed socket,
and the server must not reach any other address.
"""

from __future__ import annotations

import shutil
import socket
import subprocess
import sys
import urllib.request
from pathlib import Path

import pytest
from test_unit_files import SYSTEMD_DIR, UNIT, run, unit_keys, unit_root  # noqa: F401 - a fixture

SOCKET_UNIT = SYSTEMD_DIR / "appliance.socket"
SERVER = Path(__file__).resolve().parent / "serve_screen.py"


def test_socket_unit_listens_on_loopback_only():
    keys = unit_keys(SOCKET_UNIT.read_text())
    assert [value.split(":")[0] for value in keys["ListenStream"]] == ["127.0.0.1"]
    assert keys["IPAddressDeny"] == ["any"] and keys["IPAddressAllow"] == ["localhost"]
    service = unit_keys(UNIT.read_text())
    assert "yes" in service["PrivateNetwork"] and "AF_UNIX" in service["RestrictAddressFamilies"]


def test_socket_and_service_verify_together(unit_root: Path):  # noqa: F811 - the fixture
    for unit in (UNIT, SOCKET_UNIT):
        shutil.copy(unit, unit_root / "etc/systemd/system" / unit.name)
    result = run("systemd-analyze", "verify", f"--root={unit_root}", "appliance.service",
                 "appliance.socket")
    assert result.returncode == 0 and result.stdout + result.stderr == "", result.stderr


def test_a_passed_socket_serves_the_page_from_a_process_with_no_network():
    for tool in ("systemd-socket-activate", "unshare"):
        if shutil.which(tool) is None:
            pytest.fail(f"{tool} is missing (Debian: systemd, util-linux)")
    if subprocess.run(["unshare", "-n", "true"], capture_output=True).returncode != 0:
        pytest.fail("unshare -n is not permitted here, so PrivateNetwork=yes cannot be imitated")
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    server = subprocess.Popen(
        ["systemd-socket-activate", "-l", f"127.0.0.1:{port}", "--",
         "unshare", "-n", sys.executable, str(SERVER)],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        listening = server.stderr.readline()
        assert listening.startswith("Listening on"), listening + server.stderr.read()[-500:]
        # systemd-socket-activate starts the server on the first connection, as systemd would.
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=60) as response:
            page = response.read().decode()
        reach = server.stdout.readline().strip()
    finally:
        server.stdin.close()
        try:
            server.wait(timeout=20)
        except subprocess.TimeoutExpired:
            server.kill()
    assert '<button id="talk"' in page
    assert reach.startswith("cannot reach 192.0.2.1"), reach + server.stderr.read()[-500:]
