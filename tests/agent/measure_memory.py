"""Resident memory of `appliance run`, and where it goes.

Not a test (it asserts nothing): run it for the figures in reports.
  .venv/bin/python tests/agent/measure_memory.py [--config FILE]

1. Stage by stage, in this process: the resident set after importing the
   libraries and after opening each part of the pipeline in the order
   `Pipeline` opens them, so each line is what that part costs.
2. The real `appliance run` on a private PulseAudio loop (tests/pulse.py): its
   resident set once ready, and its peak (VmHWM) after a caller wakes it, asks a
   question and interrupts the answer. The peak is the budgeted figure.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from pulse import KIOSK_AUDIO_CONFIG, PrivatePulse  # noqa: E402

from appliance.audiofile import resample, write_wav  # noqa: E402
from appliance.config import Config, load_config  # noqa: E402
from appliance.messages import SAMPLE_RATE_HZ  # noqa: E402


def status_mb(pid: int | str, key: str) -> float:
    """A VmRSS/VmHWM line of /proc/PID/status, in MB."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(key + ":"):
            return int(line.split()[1]) / 1024
    raise KeyError(key)


def staged(config: Config) -> list[tuple[str, float]]:
    """RSS after each stage; objects are kept alive so each delta is that stage's own."""
    from appliance.audio.room import RoomSettings, SimulatedRoom
    from appliance.audio.speaker import Speaker
    from appliance.listen.frontend import FrontEnd
    from appliance.models import require

    models = config.models_dir()
    kept: list[object] = []
    rows = [("python + appliance", status_mb("self", "VmRSS"))]

    def stage(name: str, make: Callable[[], object]) -> None:
        kept.append(make())
        rows.append((name, status_mb("self", "VmRSS")))

    stage("numpy, onnxruntime imported", lambda: __import__("onnxruntime"))
    speaker = Speaker(SimulatedRoom(RoomSettings()), config.audio)
    stage("front end: speex AEC + suppressor, Silero VAD, detector",
          lambda: FrontEnd(config.aec, config.detector, speaker, require("silero_vad.onnx", models)))
    from appliance.speech.wake import WakeWordDetector
    stage("wake word (3 ONNX models)", lambda: WakeWordDetector(config.wake, models))
    from appliance.speech.factory import open_recognizer
    stage(f"recogniser ({config.asr.backend})", lambda: open_recognizer(config.asr, models))
    if config.knowledge.phrasing == "model":      # as Pipeline: the LLM only words answers
        from appliance.agent.llm import LocalLlm
        stage(f"LLM ({config.llm.model})", lambda: LocalLlm(config.llm, models))
    from appliance.speech.tts import Synthesizer
    stage(f"TTS ({config.tts.voice})", lambda: Synthesizer(config.tts, models))
    return rows


def caller_lines(folder: Path) -> list[Path]:
    from appliance.speech.tts import Synthesizer

    wake = folder / "wake.wav"
    subprocess.run(["espeak-ng", "-v", "en-us", "-w", str(wake), "Hey Jarvis"], check=True)
    paths = [wake]
    with Synthesizer(Config().tts, Config().models_dir()) as tts:
        for index, text in enumerate(("Can you tell me about breakfast?", "No, stop. When is dinner?")):
            audio = np.concatenate([resample(c.samples, c.rate_hz) for c in tts.synthesize(text)])
            path = folder / f"line{index}.wav"
            write_wav(path, np.concatenate([audio, np.zeros(SAMPLE_RATE_HZ, np.int16)]), SAMPLE_RATE_HZ)
            paths.append(path)
    return paths


def wait_for(events: Path, name: str, timeout_s: float = 300.0) -> bool:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if events.exists() and any(json.loads(line)["event"] == name
                                   for line in events.read_text().splitlines() if line.strip()):
            return True
        time.sleep(0.2)  # polling a file another process writes; nothing to wait on
    return False


def run_peak(config_text: str) -> dict[str, float]:
    with tempfile.TemporaryDirectory() as folder:
        root = Path(folder)
        pulse = PrivatePulse(root / "pulse")
        pulse.start()
        try:
            lines = caller_lines(root)
            config = root / "appliance.toml"
            config.write_text(KIOSK_AUDIO_CONFIG + config_text)
            events = root / "events.jsonl"
            env = {**os.environ, **pulse.client_env()}
            kiosk = subprocess.Popen([sys.executable, "-m", "appliance", "--config", str(config), "run",
                                      "--events", str(events)], env=env,
                                     stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            figures = {}
            try:
                if not wait_for(events, "ready"):
                    raise SystemExit("appliance run never became ready")
                figures["ready"] = status_mb(kiosk.pid, "VmRSS")
                for path, event in zip(lines, ("wake", "agent_speech_start", "barge_in_stop"), strict=True):
                    subprocess.run(["paplay", "--device", "kiosk", str(path)], env=env, check=True)
                    wait_for(events, event)
                wait_for(events, "agent_speech_end")
                figures["after a conversation"] = status_mb(kiosk.pid, "VmRSS")
                figures["peak (VmHWM)"] = status_mb(kiosk.pid, "VmHWM")
            finally:
                kiosk.send_signal(signal.SIGTERM)
                kiosk.wait(timeout=30)
            return figures
        finally:
            pulse.stop()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--config", type=Path, help="appliance config (default: built-in defaults)")
    args = parser.parse_args()
    config = load_config(args.config) if args.config else Config()
    previous = 0.0
    print("stage                                                   RSS MB   +MB")
    for name, rss in staged(config):
        print(f"{name:55s} {rss:6.0f} {rss - previous:+6.0f}")
        previous = rss
    extra = args.config.read_text() if args.config else ""
    for name, value in run_peak(extra).items():
        print(f"appliance run, {name:40s} {value:6.0f}")


if __name__ == "__main__":
    main()
