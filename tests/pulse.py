"""A private PulseAudio daemon for tests that go through real ALSA.

Its null sink is the loudspeaker and the sink's monitor is the microphone,
so whatever the kiosk plays through the ALSA `pulse` plugin comes back on
capture, in real time, through the same pyalsaaudio code path as a real card.
The daemon lives in its own runtime/home/config directories, with autospawn
off, and is stopped (then checked gone) by `stop()`.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import time
from pathlib import Path

SINK = "kiosk"
KIOSK_AUDIO_CONFIG = """
[audio]
capture_device = "pulse"
playback_device = "pulse"
realtime_priority = 0
cut_rewinds_card = false
"""
"""The `[audio]` table of an appliance config that runs on this daemon. PulseAudio
holds part of its buffer out of avail()'s sight, so a cut must not rewind the card."""
_READY_TIMEOUT_S = 15.0

_SCRIPT = f"""
load-module module-native-protocol-unix auth-anonymous=1 socket={{socket}}
load-module module-null-sink sink_name={SINK} rate=48000 channels=2
set-default-sink {SINK}
set-default-source {SINK}.monitor
"""


class PulseStartError(RuntimeError):
    """PulseAudio could not be started: the ALSA tests must fail, not skip."""


class PrivatePulse:
    """One `pulseaudio` process with a null sink, reachable at `server`."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.socket_path = root / "runtime" / "native"
        self.server = f"unix:{self.socket_path}"
        self.log_path = root / "pulseaudio.log"
        self.client_config = root / "client.conf"
        self.process: subprocess.Popen[bytes] | None = None

    def client_env(self) -> dict[str, str]:
        """What a client process (the tests, a subprocess) needs to reach this daemon only."""
        return {"PULSE_SERVER": self.server, "PULSE_CLIENTCONFIG": str(self.client_config)}

    def start(self) -> None:
        binary = shutil.which("pulseaudio")
        if binary is None:
            raise PulseStartError("pulseaudio is not installed (Debian package pulseaudio)")
        for name in ("runtime", "home", "config", "state"):
            (self.root / name).mkdir(parents=True, exist_ok=True)
        script = self.root / "default.pa"
        script.write_text(_SCRIPT.format(socket=self.socket_path))
        self.client_config.write_text("autospawn = no\n")
        env = {
            "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
            "HOME": str(self.root / "home"),
            "XDG_RUNTIME_DIR": str(self.root / "runtime"),
            "XDG_CONFIG_HOME": str(self.root / "config"),
            "PULSE_RUNTIME_PATH": str(self.root / "runtime"),
            "PULSE_STATE_PATH": str(self.root / "state"),
        }
        # As root PulseAudio warns that it is meant for a user session but runs
        # fine in user mode; --system would need the pulse user and D-Bus.
        command = [binary, "--daemonize=no", "-n", "-F", str(script), "--exit-idle-time=-1",
                   "--use-pid-file=no", "--system=false", "--log-target=stderr"]
        with self.log_path.open("wb") as log:
            self.process = subprocess.Popen(command, env=env, stdout=log, stderr=log,
                                            stdin=subprocess.DEVNULL)
        self._wait_ready()

    def _wait_ready(self) -> None:
        """Readiness check: poll until the daemon accepts a connection on its socket."""
        deadline = time.monotonic() + _READY_TIMEOUT_S
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise PulseStartError(f"pulseaudio exited with {self.process.returncode}: "
                                      f"{self._log_tail()}")
            if self._accepts_connection():
                return
            time.sleep(0.05)
        self.stop()
        raise PulseStartError(f"pulseaudio not ready after {_READY_TIMEOUT_S:.0f} s: "
                              f"{self._log_tail()}")

    def _accepts_connection(self) -> bool:
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as probe:
            try:
                probe.connect(str(self.socket_path))
            except OSError:
                return False
        return True

    def _log_tail(self) -> str:
        lines = self.log_path.read_text(errors="replace").strip().splitlines()
        return " | ".join(lines[-5:]) or "(no output)"

    def stop(self) -> int | None:
        """Terminate the daemon, kill it if it lingers; returns its exit status."""
        if self.process is None:
            return None
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=5)
        status = self.process.returncode
        self.process = None
        return status
