"""The screen's server on the socket systemd passes in; run by test_screen_socket.py.

Started under `systemd-socket-activate` (LISTEN_FDS) inside a private network
namespace (`unshare -n`), as `PrivateNetwork=yes` runs the service. Prints one
line saying whether it could reach another address, then serves until stdin
closes.
"""

from __future__ import annotations

import socket
import sys

from appliance.config import ScreenSettings
from appliance.runtime.screen.server import ScreenServer, systemd_socket
from appliance.runtime.screen.view import ScreenView


def main() -> int:
    sock = systemd_socket()
    if sock is None:
        print("no socket was passed in", flush=True)
        return 1
    try:
        socket.create_connection(("192.0.2.1", 80), timeout=2).close()
        reach = "reached 192.0.2.1"
    except OSError as error:
        reach = f"cannot reach 192.0.2.1: {error.strerror}"
    settings = ScreenSettings(enabled=True)
    with ScreenServer(settings, on_talk=lambda: None, sock=sock) as server:
        ScreenView(settings, server.publish, site_name="Socket Activated").on_event({"event": "ready"})
        print(reach, flush=True)
        sys.stdin.read()
    return 0


if __name__ == "__main__":
    sys.exit(main())
