"""Chromium with the screen's flags sends nothing off the device.

Chromium looks up Google's hosts at start-up even with background networking
switched off (24 lookups in one screenshot here without the resolver rule).
strace watches every socket Chromium opens while it renders the sim's
screenshot: no name lookup may leave (nothing to port 53), no stream socket
may connect anywhere but loopback, and no datagram may be sent on an internet
socket to an address off the device (Chromium's route probes connect a UDP
socket and read its local address; connecting a datagram socket sends nothing).
"""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

LOOPBACK = re.compile(r'inet_addr\("127\.|inet_pton\(AF_INET6, "::1"|\[127\.|\[::1\]')
TCP_CONNECT = re.compile(r"^\d+\s+connect\(\d+<TCPv?6?:")
UDP_SEND = re.compile(r"^\d+\s+(?:sendto|sendmsg|sendmmsg)\(\d+<UDPv?6?:")
SHOOT = """
import sys
from pathlib import Path
from appliance.runtime.screen.snapshot import screenshot
view = {"seq": 1, "emitted_ms": 0, "site": "Offline", "state": "idle", "ready": True,
        "caller": {"text": "", "final": True}, "reply": {"words": [], "heard": 0, "cut": False},
        "idle_clear_s": 20}
screenshot(view, Path(sys.argv[1]))
"""


def internet_traffic(trace: str) -> list[str]:
    """Lines of an `strace -f -yy` log where Chromium reached beyond the device."""
    return [line for line in trace.splitlines()
            if "htons(53)" in line
            or ((TCP_CONNECT.match(line) or UDP_SEND.match(line)) and not LOOPBACK.search(line))]


def test_chromium_with_the_screen_flags_stays_on_the_device(tmp_path: Path):
    if shutil.which("strace") is None:
        pytest.fail("strace is missing (Debian: strace)")
    trace = tmp_path / "trace.log"
    shot = tmp_path / "screen.png"
    done = subprocess.run(["strace", "-f", "-qq", "-yy", "-e", "trace=socket,connect,sendto,sendmsg,sendmmsg",
                           "-o", str(trace), sys.executable, "-c", SHOOT, str(shot)],
                          capture_output=True, text=True, timeout=180)
    assert done.returncode == 0 and shot.exists(), done.stderr[-1000:]
    log = trace.read_text()
    assert "<UDP" in log or "<TCP" in log, "strace saw no internet socket: did it watch Chromium?"
    assert internet_traffic(log) == []


def test_the_check_sees_a_name_lookup():
    lookup = ('7 connect(9<UDP:[0.0.0.0:30511]>, {sa_family=AF_INET, sin_port=htons(53), '
              'sin_addr=inet_addr("10.0.0.53")}, 16) = 0\n'
              '7 sendto(9<UDP:[0.0.0.0:30511]>, "\\262R\\1"..., 37, 0, NULL, 0) = 37\n'
              '7 connect(22<UDPv6:[96085]>, {sa_family=AF_INET6, sin6_port=htons(443), '
              'inet_pton(AF_INET6, "2001:4860:4860::8888", &sin6_addr)}, 28) = 0\n'
              '8 connect(4<TCP:[1234]>, {sa_family=AF_INET, sin_port=htons(443), '
              'sin_addr=inet_addr("142.250.0.1")}, 16) = -1 EINPROGRESS\n'
              '8 connect(5<TCP:[1235]>, {sa_family=AF_INET, sin_port=htons(8765), '
              'sin_addr=inet_addr("127.0.0.1")}, 16) = 0\n')
    assert len(internet_traffic(lookup)) == 3
