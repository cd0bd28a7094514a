"""The last step of a kiosk process: no native work may still run when it exits.

A reply worker can be inside onnxruntime (piper synthesising a clause) or
llama.cpp when SIGTERM arrives; `Reply.cancel()` stops it between clauses
but waits only so long. If the interpreter then exits, C++ static destructors
run under that thread and the process aborts ("terminate called without an
active exception", exit 134, a core dump and `Restart=on-failure` counting a
failure). So the other threads are given `timeout_s` to end; one that is
still busy after that (a call that never returns, a PCM left behind) is not
waited for: the logs are flushed and the process leaves with `os._exit`,
skipping the destructors that would abort.
"""

from __future__ import annotations

import logging
import os
import sys
import threading
import time

log = logging.getLogger(__name__)

NATIVE_WORK_WAIT_S = 8.0
"""How long the other threads get to finish at exit, seconds: one clause of piper or an
aborted decode on a busy Pi, well inside systemd's TimeoutStopSec (15 s)."""


def finish(code: int, timeout_s: float = NATIVE_WORK_WAIT_S) -> int:
    """Wait for the other threads, then return `code`; exit at once if some are stuck."""
    deadline = time.monotonic() + timeout_s
    current = threading.current_thread()
    for thread in threading.enumerate():
        if thread is not current and thread is not threading.main_thread():
            thread.join(max(0.0, deadline - time.monotonic()))
    lingering = sorted(t.name for t in threading.enumerate()
                       if t is not current and t is not threading.main_thread() and t.is_alive())
    if not lingering:
        return code
    log.warning("exiting with %s still running (left to the OS, so that no native destructor "
                "runs under them)", ", ".join(lingering))
    logging.shutdown()
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)
