"""The last step of `appliance run`: no native work may still run when the process exits.

A reply worker can be inside onnxruntime (piper synthesising a clause) or
llama.cpp when SIGTERM arrives; `Reply.cancel()` stops it between clauses
but waits only so long. If the interpreter then exits, C++ static destructors
run under that thread and the process aborts ("terminate called without an
active exception", exit 134, a core dump and `Restart=on-failure` counting a
failure). So every thread the service started is given `timeout_s` to end.
One still busy after that is not waited for: the logs are flushed and the
process leaves with `os._exit(1)`, skipping the destructors that would abort
(exit 1: a thread that could not be stopped is not a clean stop).

Threads given up on purpose earlier (a duplex loop stuck inside a dead sound
server, a PCM close that hung) are named "... (given up)" and not waited for:
they sit in alsa-lib/libpulse, which have no destructors to run under them.
"""

from __future__ import annotations

import logging
import os
import sys
import threading
import time
from collections.abc import Collection

log = logging.getLogger(__name__)

NATIVE_WORK_WAIT_S = 8.0
"""How long the service's threads get to finish at exit, seconds: one clause of piper
or an aborted decode on a busy Pi, well inside systemd's TimeoutStopSec (15 s)."""
GIVEN_UP = " (given up)"
"""Appended to the name of a thread left behind on purpose (by audio/loop.py and
audio/alsa_native.py, which sit below this module)."""


def finish(code: int, already_running: Collection[threading.Thread],
           timeout_s: float = NATIVE_WORK_WAIT_S) -> int:
    """Wait for the threads started since `already_running` was taken, then return `code`;
    if one is still busy after `timeout_s`, flush the logs and exit the process at once."""
    deadline = time.monotonic() + timeout_s
    ours = [thread for thread in threading.enumerate()
            if thread not in already_running and thread is not threading.current_thread()
            and not thread.name.endswith(GIVEN_UP)]
    for thread in ours:
        thread.join(max(0.0, deadline - time.monotonic()))
    lingering = sorted(thread.name for thread in ours if thread.is_alive())
    if not lingering:
        return code
    log.error("exiting with %s still running after %.0f s (left to the OS, so that no native "
              "destructor runs under them)", ", ".join(lingering), timeout_s)
    logging.shutdown()
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(1)
