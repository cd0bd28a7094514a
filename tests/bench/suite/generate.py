"""Make the project's bench suite: caller audio (espeak-ng, alsa-utils recordings,
numpy noises) and one TOML per scenario. Deterministic: run it again and the
files come out the same.

    .venv/bin/python tests/bench/suite/generate.py

Caller speech is normalised so that its active-speech RMS matches the agent
voice (about -27 dBFS): with `echo_gain_db = 0` and `caller_gain_db = 0` the
signal-to-echo ratio (SER) at the mic is then about 0 dB, and
SER ≈ caller_gain_db - echo_gain_db.
"""

from __future__ import annotations

import subprocess
import tempfile
from pathlib import Path

import numpy as np
import soundfile

HERE = Path(__file__).resolve().parent
AUDIO = HERE / "audio"
RATE = 16000
SPEECH_RMS_DBFS = -27.0
ALSA_SOUNDS = Path("/usr/share/sounds/alsa")

SPEECH = {  # file: (espeak-ng voice, words)
    "no_blue": ("en-us", "no, the blue one"),
    "wait_question": ("en-us+f3", "wait, I have a question"),
    "stop_please": ("en-gb", "stop, please"),
    "actually_pool": ("en-gb-scotland+m3", "actually, where is the pool"),
    "excuse_me": ("en-us+f2", "excuse me"),
    "what_time": ("en-gb-x-rp+f4", "what time is checkout"),
    "hold_on": ("en-029", "hold on a second"),
    "mm_hmm": ("en-us+f3", "mm-hmm"),
    "yeah": ("en-gb", "yeah"),
    "okay": ("en-us", "okay"),
    "uh_huh": ("en-gb-x-rp+f4", "uh-huh"),
}
RECORDINGS = {"Front_Center": "front center", "Front_Left": "front left",
              "Rear_Right": "rear right", "Side_Left": "side left"}  # file: words spoken

AGENT = {
    "room": "Your room is on the fourth floor, next to the elevators.",
    "breakfast": "Breakfast is served from seven until ten in the main restaurant on the ground floor.",
    "long": ("Welcome to the Harbour View Hotel. Check-in starts at three, checkout is at eleven, "
             "and the pool on the roof is open from eight in the morning until nine at night."),
    "wifi": "The wireless network is called Harbour Guest, and the password is on your key card.",
}

# name, kind, agent, caller file (stem), caller_at_s, room overrides
SCENARIOS = [
    ("int-basic", "interrupt", "room", "no_blue", 2.0, {}),
    ("int-early-1s", "interrupt", "breakfast", "wait_question", 1.0, {}),
    ("int-loud-echo", "interrupt", "breakfast", "stop_please", 2.5, {"echo_gain_db": 10}),
    ("int-quiet-echo", "interrupt", "room", "actually_pool", 1.5, {"echo_gain_db": -10}),
    ("int-ser-minus15", "interrupt", "long", "excuse_me", 3.0,
     {"echo_gain_db": 10, "caller_gain_db": -5}),
    ("int-ser-minus10", "interrupt", "breakfast", "no_blue", 2.2,
     {"echo_gain_db": 5, "caller_gain_db": -5, "rt60_s": 0.4}),
    ("int-delay-2ms", "interrupt", "room", "what_time", 1.8, {"echo_delay_ms": 2, "rt60_s": 0.0}),
    ("int-delay-40ms", "interrupt", "breakfast", "hold_on", 2.7, {"echo_delay_ms": 40}),
    ("int-rt60-0.6", "interrupt", "long", "wait_question", 4.0, {"rt60_s": 0.6}),
    ("int-dry-room", "interrupt", "wifi", "excuse_me", 2.0, {"rt60_s": 0.0}),
    ("int-clipping", "interrupt", "breakfast", "stop_please", 2.0,
     {"speaker_clip": 0.6, "echo_gain_db": 5}),
    ("int-clip-hard", "interrupt", "long", "actually_pool", 5.5,
     {"speaker_clip": 1.0, "echo_gain_db": 3, "rt60_s": 0.4}),
    ("int-noisy-pink", "interrupt", "wifi", "what_time", 2.5,
     {"noise": "pink", "noise_dbfs": -45}),
    ("int-noisy-white", "interrupt", "room", "hold_on", 1.2, {"noise": "white", "noise_dbfs": -50}),
    ("int-alsa-front-center", "interrupt", "breakfast", "Front_Center", 3.0, {}),
    ("int-alsa-front-left", "interrupt", "long", "Front_Left", 6.0, {"rt60_s": 0.5, "echo_gain_db": 5}),
    ("int-alsa-rear-right", "interrupt", "wifi", "Rear_Right", 1.0, {"echo_delay_ms": 25}),
    ("int-alsa-side-left", "interrupt", "room", "Side_Left", 2.0,
     {"echo_gain_db": 8, "caller_gain_db": -4, "noise": "pink", "noise_dbfs": -55}),
    ("bc-mm-hmm", "backchannel", "long", "mm_hmm", 3.0, {}),
    ("bc-yeah", "backchannel", "breakfast", "yeah", 2.5, {"echo_gain_db": 5}),
    ("bc-okay", "backchannel", "wifi", "okay", 2.0, {"rt60_s": 0.5}),
    ("bc-uh-huh", "backchannel", "long", "uh_huh", 4.0, {"speaker_clip": 0.4}),
    ("noise-cough", "noise", "breakfast", "cough", 2.0, {}),
    ("noise-cough-loud", "noise", "long", "cough", 3.5, {"caller_gain_db": 6, "echo_gain_db": 5}),
    ("noise-door-slam", "noise", "wifi", "door_slam", 2.0, {}),
    ("noise-keys", "noise", "room", "keys", 1.5, {"rt60_s": 0.4}),
    ("noise-alsa-noise", "noise", "breakfast", "alsa_noise", 2.0, {"caller_gain_db": -10}),
    ("noise-pink-background", "noise", "long", "keys", 5.0, {"noise": "pink", "noise_dbfs": -45}),
    ("echo-default", "echo-only", "long", None, 0.0, {}),
    ("echo-loud", "echo-only", "long", None, 0.0, {"echo_gain_db": 10}),
    ("echo-quiet", "echo-only", "breakfast", None, 0.0, {"echo_gain_db": -10}),
    ("echo-reverberant", "echo-only", "long", None, 0.0, {"rt60_s": 0.6, "echo_gain_db": 3}),
    ("echo-clipping", "echo-only", "long", None, 0.0, {"speaker_clip": 0.8, "echo_gain_db": 6}),
    ("echo-long-delay", "echo-only", "wifi", None, 0.0, {"echo_delay_ms": 40, "rt60_s": 0.3}),
    ("echo-noisy", "echo-only", "long", None, 0.0, {"noise": "white", "noise_dbfs": -45}),
]


def normalise(samples: np.ndarray, rms_dbfs: float = SPEECH_RMS_DBFS) -> np.ndarray:
    """Scale so the active frames (within 30 dB of the loudest 10 ms) have `rms_dbfs`."""
    frames = samples[: len(samples) // 160 * 160].reshape(-1, 160)
    power = np.mean(frames**2, axis=1)
    active = power[power >= power.max() * 1e-3]
    return samples * (10 ** (rms_dbfs / 20) / np.sqrt(np.mean(active)))


def espeak(voice: str, text: str) -> tuple[np.ndarray, int]:
    with tempfile.TemporaryDirectory() as workdir:
        path = Path(workdir) / "speech.wav"
        subprocess.run(["espeak-ng", "-v", voice, "-s", "165", "-w", str(path), text], check=True)
        samples, rate = soundfile.read(path, dtype="float64")
    return samples, rate


def cough(rng: np.random.Generator) -> np.ndarray:
    """Two coughs: sharp-attack band-limited noise bursts."""
    out = np.zeros(int(0.9 * RATE))
    for start_s, length_s in ((0.0, 0.22), (0.45, 0.18)):
        n = int(length_s * RATE)
        burst = np.convolve(rng.standard_normal(n), np.hanning(9), "same")
        envelope = np.minimum(np.arange(n) / (0.01 * RATE), 1.0) * np.exp(-np.arange(n) / (0.06 * RATE))
        start = int(start_s * RATE)
        out[start: start + n] += burst * envelope
    return out


def door_slam(rng: np.random.Generator) -> np.ndarray:
    """A low thump with a ringing panel and a rattle."""
    t = np.arange(int(0.8 * RATE)) / RATE
    thump = np.sin(2 * np.pi * 70 * t) * np.exp(-t / 0.08)
    panel = 0.4 * np.sin(2 * np.pi * 210 * t) * np.exp(-t / 0.15)
    rattle = 0.3 * rng.standard_normal(len(t)) * np.exp(-t / 0.03)
    return thump + panel + rattle


def keys(rng: np.random.Generator) -> np.ndarray:
    """A bunch of keys: many short metallic pings at random times."""
    out = np.zeros(int(1.2 * RATE))
    t = np.arange(int(0.05 * RATE)) / RATE
    for _ in range(25):
        freq = rng.uniform(3000, 7000)
        ping = np.sin(2 * np.pi * freq * t) * np.exp(-t / 0.008)
        start = rng.integers(0, len(out) - len(t))
        out[start: start + len(t)] += ping * rng.uniform(0.3, 1.0)
    return out


def write_audio() -> None:
    AUDIO.mkdir(exist_ok=True)
    for stem, (voice, text) in SPEECH.items():
        samples, rate = espeak(voice, text)
        soundfile.write(AUDIO / f"{stem}.wav", normalise(samples), rate, subtype="PCM_16")
    for stem in RECORDINGS:
        samples, rate = soundfile.read(ALSA_SOUNDS / f"{stem}.wav", dtype="float64", always_2d=True)
        soundfile.write(AUDIO / f"{stem}.wav", normalise(samples[:, 0]), rate, subtype="PCM_16")
    noise, rate = soundfile.read(ALSA_SOUNDS / "Noise.wav", dtype="float64", always_2d=True)
    soundfile.write(AUDIO / "alsa_noise.wav", normalise(noise[: rate, 0], -20), rate, subtype="PCM_16")
    for stem, make, level in (("cough", cough, -20.0), ("door_slam", door_slam, -14.0),
                              ("keys", keys, -26.0)):
        samples = normalise(make(np.random.default_rng(7)), level)
        soundfile.write(AUDIO / f"{stem}.wav", np.clip(samples, -1, 1), RATE, subtype="PCM_16")


def _toml_value(value: object) -> str:
    if isinstance(value, str):
        return f'"{value}"'
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(_toml_value(item) for item in value) + "]"
    return repr(value)


def scenario_toml(name: str, kind: str, agent_text: str, caller: str | None, caller_text: str | None,
                  at_s: float, room: dict) -> str:
    """One scenario file's text (BENCH.md format); the room's seed is the name's length."""
    lines = [f'name = "{name}"', f'kind = "{kind}"', f'agent_text = "{agent_text}"']
    if caller is not None:
        lines.append(f'caller_audio = "audio/{caller}.wav"')
        if caller_text:
            lines.append(f'caller_text = "{caller_text}"')
        lines.append(f"caller_at_s = {at_s}")
    room = {"seed": len(name)} | room
    lines += ["", "[room]"] + [f"{key} = {_toml_value(value)}" for key, value in room.items()]
    return "\n".join(lines) + "\n"


def write_scenarios() -> None:
    for old in HERE.glob("*.toml"):
        if not old.name.startswith("rv-"):  # rv-*: tests/bench/real_voices.py writes those
            old.unlink()
    for name, kind, agent, caller, at_s, room in SCENARIOS:
        text = None if caller is None else (SPEECH[caller][1] if caller in SPEECH else RECORDINGS.get(caller))
        (HERE / f"{name}.toml").write_text(scenario_toml(name, kind, AGENT[agent], caller, text, at_s, room))


if __name__ == "__main__":
    write_audio()
    write_scenarios()
