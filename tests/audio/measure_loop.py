"""Per-period CPU cost of the duplex loop, and what the driver granted.

Not a test (it asserts nothing): run it for the figures in reports.
  PULSE_SERVER=... .venv/bin/python tests/audio/measure_loop.py [--periods N]
Without PULSE_SERVER it starts its own private PulseAudio (tests/pulse.py).
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import threading
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from pulse import PrivatePulse  # noqa: E402

from appliance.audio.alsa import AlsaDevice  # noqa: E402
from appliance.audio.loop import DuplexLoop  # noqa: E402
from appliance.audio.room import RoomSettings, SimulatedRoom  # noqa: E402
from appliance.audio.speaker import Speaker  # noqa: E402
from appliance.config import AudioSettings  # noqa: E402


class Counter:
    def __init__(self, periods: int) -> None:
        self.periods = periods
        self.done = threading.Event()
        self.seen = 0

    def on_period(self, mic, played, t, delay_samples, realign) -> None:
        self.seen += 1
        if self.seen >= self.periods:
            self.done.set()


def speech_like(seconds: float) -> np.ndarray:
    rng = np.random.default_rng(0)
    return (rng.standard_normal(int(seconds * 16000)) * 3000).astype(np.int16)


def measure_alsa(periods: int) -> None:
    settings = AudioSettings(capture_device="pulse", playback_device="pulse", realtime_priority=0)
    device = AlsaDevice(settings)
    device.open()
    speaker = Speaker(device, settings)
    counter = Counter(periods + 300)
    loop = DuplexLoop(device, speaker, counter)
    speaker.enqueue_audio(speech_like(periods / 100 + 5), 16000)
    with device, loop:
        while loop.periods_done < 300:  # skip PulseAudio's start-up
            counter.done.wait(0.1)
        cpu, done = time.process_time(), loop.periods_done
        counter.done.wait(periods / 100 + 30)
        cpu, done = time.process_time() - cpu, loop.periods_done - done
    for key, value in device.granted.items():
        print(f"{key:18} {value.describe()}")
    print(f"alsa/pulse: {done} periods, {1000 * cpu / done:.3f} ms CPU per 10 ms period, "
          f"xruns {device.xruns}")


def measure_sim(periods: int) -> None:
    settings = AudioSettings(backend="sim")
    for room in (RoomSettings(rt60_s=0), RoomSettings(rt60_s=0.25, noise="pink")):
        device = SimulatedRoom(room)
        device.open()
        speaker = Speaker(device, settings)
        speaker.enqueue_audio(speech_like(periods / 100), 16000)
        loop = DuplexLoop(device, speaker, Counter(periods))
        cpu = time.process_time()
        loop.run_periods(periods)
        cpu = time.process_time() - cpu
        print(f"sim rt60={room.rt60_s}: {1000 * cpu / periods:.3f} ms CPU per period")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--periods", type=int, default=1000)
    args = parser.parse_args()
    if "PULSE_SERVER" in os.environ:
        measure_alsa(args.periods)
    else:
        with tempfile.TemporaryDirectory() as root:
            daemon = PrivatePulse(Path(root))
            daemon.start()
            os.environ.update(daemon.client_env())
            try:
                measure_alsa(args.periods)
            finally:
                daemon.stop()
    measure_sim(args.periods)


if __name__ == "__main__":
    main()
