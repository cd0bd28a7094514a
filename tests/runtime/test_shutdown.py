"""SIGTERM while a reply worker is inside piper: the process must not abort at exit.

Measured before the fix: a thread still inside onnxruntime when the interpreter
exits makes the C++ runtime call std::terminate ("terminate called without an
active exception", exit 134), which is how `appliance run` once died on SIGTERM.
Here the real Reply worker and the real piper voice are cut short exactly as the
kiosk cuts them at stop (a cancel whose join gives up), in a child process.
"""

from __future__ import annotations

import subprocess
import sys

import pytest

pytestmark = pytest.mark.slow

_STOPPING_MID_CLAUSE = """
import logging, sys
from appliance.agent.reply import Reply
from appliance.config import Config
from appliance.runtime import shutdown
from appliance.speech.tts import Synthesizer

logging.basicConfig(level=logging.INFO, stream=sys.stderr, format="%(message)s")
config = Config()
voice = Synthesizer(config.tts, config.models_dir())
list(voice.synthesize("Warm up."))
text = " ".join(["The breakfast room on the second floor serves a warm buffet."] * 8)
started = __import__("threading").Event()

def synthesize(text):  # eight sentences: most of the time inside onnxruntime
    started.set()
    return list(voice.synthesize(text))[0]

already_running = __import__("threading").enumerate()
reply = Reply([text], synthesize)
started.wait(30)
reply.cancel(join_timeout=0.05)          # the worker is still inside piper
sys.exit(shutdown.finish(0, already_running))
"""


def test_stopping_while_piper_synthesises_exits_cleanly():
    child = subprocess.run([sys.executable, "-c", _STOPPING_MID_CLAUSE], capture_output=True,
                           text=True, timeout=120)
    assert "still finishing a clause" in child.stderr, "the worker was not inside piper at stop"
    assert "terminate called" not in child.stderr
    assert child.returncode == 0, child.stderr[-2000:]
