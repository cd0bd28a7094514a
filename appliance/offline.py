"""Telemetry off, before any library that has it is imported.

The package's `__init__` applies this, so every entry point (the command, the
service, the tests, `python -m appliance`) is covered before onnxruntime,
openWakeWord or piper can load. What each setting stops, as audited:

- onnxruntime (1.32, imported by the VAD, openWakeWord, piper and the ASR)
  writes a device id and a queue of telemetry events under
  `~/.cache/Microsoft/DeveloperTools/.onnxruntime/` at every model load and,
  within seconds, resolves `mobile.events.data.microsoft.com` to upload them.
  `ORT_DISABLE_TELEMETRY=1` stops both (no file, no socket; checked with strace
  by tests/test_offline.py).
- Hugging Face's hub client, which none of the kiosk's own packages import but
  a model package or a tool installed beside it may: offline mode and no
  telemetry, so a library that would download a missing model fails instead.

llama.cpp, vosk, pocketsphinx, piper's synthesis, speexdsp, soxr, soundfile,
pyalsaaudio, gpiozero and systemd-python open no network socket; matplotlib
(bench plots only) keeps a font cache, which is local.
"""

from __future__ import annotations

import os
from collections.abc import MutableMapping

OFFLINE_ENVIRONMENT: dict[str, str] = {
    "ORT_DISABLE_TELEMETRY": "1",
    "HF_HUB_OFFLINE": "1",
    "HF_HUB_DISABLE_TELEMETRY": "1",
}


def keep_offline(environ: MutableMapping[str, str] = os.environ) -> None:
    """Set every variable above, overriding any value inherited from the caller's shell."""
    environ.update(OFFLINE_ENVIRONMENT)
