"""Make the real-voice, real-room part of the bench suites: callers are human
recordings from Debian packages, rooms mostly pyroomacoustics shoeboxes.

    .venv/bin/python tests/bench/real_voices.py

Recordings (apt packages in the Makefile's APT_PACKAGES, GPL-2+; see the
README.md next to the audio they produced): KTuberling's spoken words
(`ktuberling-data`, one speaker per language) and KLettres' spoken letters
(`klettres-data`, one speaker per language). Each caller is one speaker saying
one to three words, joined with short pauses, normalised like the rest of the
suite (active speech at -27 dBFS, so SER ≈ caller_gain_db - echo_gain_db).
The words are what the speaker says in their language; `caller_text` is the
English gloss, which only matters to the bench's oracle transcript (a noun or
a letter is a request: the agent stays stopped).

Two halves that share no speaker, no room and no agent text:
- tuning (`rv-*.toml` in `suite/`, next to generate.py's scenarios): thresholds
  may be tuned on these;
- held back (`held-back/`): reported, never tuned on.

"Soft" callers get a 150 ms raised-cosine fade-in from their first speech frame
(a breathy start, the hard case for an onset detector). Deterministic: run it
again and the files come out the same.
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import soundfile
import soxr

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE / "suite"))
from generate import AGENT, RATE, cough, door_slam, keys, normalise, scenario_toml  # noqa: E402

TUBERLING = Path("/usr/share/ktuberling/sounds")
LETTRES = Path("/usr/share/klettres")
SOFT_ONSET_S = 0.15

# stem: (source folder, [file stems], English gloss, soft onset)
TUNE_VOICES = {
    "en_nose": (TUBERLING / "en", ["nose"], "nose", False),
    "en_hat_shoe": (TUBERLING / "en", ["hat", "shoe"], "hat, shoe", False),
    "en_umbrella_soft": (TUBERLING / "en", ["umbrella", "coat"], "umbrella, coat", True),
    "de_eye": (TUBERLING / "de", ["eye"], "eye", False),
    "de_mouth_ear": (TUBERLING / "de", ["mouth", "ear", "hair"], "mouth, ear, hair", False),
    "sl_tie_soft": (TUBERLING / "sl", ["tie", "skirt"], "tie, skirt", True),
    "sl_flower": (TUBERLING / "sl", ["flower"], "flower", False),
    "de_ball": (TUBERLING / "de", ["ball", "stick"], "ball, stick", False),
    "kl_en_n": (LETTRES / "en" / "alpha", ["N"], "n", False),
    "kl_en_xyz_soft": (LETTRES / "en" / "alpha", ["X", "Y", "Z"], "x y z", True),
}
HELD_VOICES = {
    "engb_no": (LETTRES / "en_GB" / "alpha", ["n", "o"], "n o", False),
    "engb_stop_soft": (LETTRES / "en_GB" / "alpha", ["s", "t"], "s t", True),
    "ru_nose": (TUBERLING / "ru", ["nose"], "nose", False),
    "ru_hat_coat": (TUBERLING / "ru", ["hat", "coat"], "hat, coat", False),
    "lt_eye_soft": (TUBERLING / "lt", ["eye", "ear"], "eye, ear", True),
    "lt_shoe": (TUBERLING / "lt", ["shoe"], "shoe", False),
    "gl_flower_tie": (TUBERLING / "gl", ["flower", "tie"], "flower, tie", False),
    "gl_mouth_soft": (TUBERLING / "gl", ["mouth"], "mouth", True),
    "el_ball": (TUBERLING / "el", ["ball", "stick", "hat"], "ball, stick, hat", False),
    "uk_hair_soft": (TUBERLING / "uk", ["hair", "skirt"], "hair, skirt", True),
    "fr_b_c": (LETTRES / "fr" / "alpha", ["a-1", "a-2"], "b c", False),
    "fr_d": (LETTRES / "fr" / "alpha", ["a-3"], "d", False),
}

HELD_AGENT = {
    "museum": ("The museum opens at half past nine. The modern wing is on the left, and the cafe "
               "is upstairs next to the gift shop."),
    "train": "Your train leaves from platform six at twenty past four. Tickets are sold at the counter.",
    "clinic": ("Please take a seat in the waiting area. The nurse will call your name, and the "
               "restrooms are down the corridor on the right, past the water fountain, next to the "
               "lifts. If you need a wheelchair, ask at the desk and someone will bring one to you."),
    "library": "Books are due back in three weeks. You can renew them online or at any branch.",
}

# Shoebox rooms: (dimensions, speaker, mic, caller) in metres; the two halves share none.
TUNE_ROOMS = {
    "office": {"room_dim_m": [5.0, 4.0, 3.0], "rt60_s": 0.4},
    "lobby": {"room_dim_m": [9.0, 7.0, 3.5], "rt60_s": 0.8, "speaker_pos_m": [4.5, 0.4, 1.3],
              "mic_pos_m": [4.5, 0.55, 1.4], "caller_pos_m": [4.0, 2.5, 1.6]},
    "booth": {"room_dim_m": [2.5, 2.0, 2.4], "rt60_s": 0.3, "speaker_pos_m": [1.25, 0.3, 1.1],
              "mic_pos_m": [1.25, 0.4, 1.2], "caller_pos_m": [1.1, 1.2, 1.5]},
}
HELD_ROOMS = {
    "corridor": {"room_dim_m": [8.0, 2.5, 2.7], "rt60_s": 0.7, "speaker_pos_m": [1.0, 1.25, 1.2],
                 "mic_pos_m": [1.1, 1.3, 1.3], "caller_pos_m": [2.6, 1.1, 1.6]},
    "kitchen": {"room_dim_m": [4.0, 3.5, 2.6], "absorption": 0.08, "speaker_pos_m": [0.4, 1.7, 1.0],
                "mic_pos_m": [0.5, 1.8, 1.05], "caller_pos_m": [2.0, 1.5, 1.5]},
    "shop": {"room_dim_m": [7.0, 6.0, 3.0], "rt60_s": 0.5, "speaker_pos_m": [3.5, 0.3, 1.4],
             "mic_pos_m": [3.3, 0.35, 1.4], "caller_pos_m": [3.6, 1.2, 1.7]},
    "tiled": {"room_dim_m": [3.0, 2.5, 2.5], "rt60_s": 0.9, "speaker_pos_m": [1.5, 0.3, 1.2],
              "mic_pos_m": [1.5, 0.42, 1.25], "caller_pos_m": [1.3, 1.6, 1.6]},
}

CLIP = {"speaker_clip": 1.0, "speaker_asymmetry": 0.4, "echo_gain_db": 6}
AMP = {"amp_compression": 4.0, "amp_threshold_dbfs": -24, "speaker_clip": 0.6, "echo_gain_db": 4}
QUIET_12 = {"echo_gain_db": 8, "caller_gain_db": -4}     # caller 12 dB under the echo
QUIET_15 = {"echo_gain_db": 10, "caller_gain_db": -5}    # caller 15 dB under the echo

# name, kind, agent, caller, caller_at_s, room preset, room overrides
TUNE = [
    ("rv-int-office-nose", "interrupt", "room", "en_nose", 2.0, "office", {}),
    ("rv-int-office-hatshoe-quiet12", "interrupt", "breakfast", "en_hat_shoe", 2.5, "office", QUIET_12),
    ("rv-int-lobby-umbrella-soft", "interrupt", "long", "en_umbrella_soft", 4.0, "lobby", {}),
    ("rv-int-lobby-eye-quiet15", "interrupt", "wifi", "de_eye", 2.2, "lobby", QUIET_15),
    ("rv-int-booth-mouth-clip", "interrupt", "breakfast", "de_mouth_ear", 3.0, "booth", CLIP),
    ("rv-int-booth-tie-soft-amp", "interrupt", "long", "sl_tie_soft", 5.0, "booth", AMP),
    ("rv-int-office-flower-clip", "interrupt", "room", "sl_flower", 1.5, "office", CLIP),
    ("rv-int-lobby-ball-noise", "interrupt", "breakfast", "de_ball", 3.5, "lobby",
     {"noise": "pink", "noise_dbfs": -50}),
    ("rv-int-office-n-quiet10", "interrupt", "wifi", "kl_en_n", 2.8, "office",
     {"echo_gain_db": 6, "caller_gain_db": -4}),
    ("rv-int-booth-xyz-soft-quiet12", "interrupt", "long", "kl_en_xyz_soft", 6.0, "booth", QUIET_12),
    ("rv-int-simple-nose-clip", "interrupt", "long", "en_nose", 3.2, None,
     {"speaker_clip": 1.0, "echo_gain_db": 10, "rt60_s": 0.5, "noise": "white", "noise_dbfs": -50}),
    ("rv-noise-lobby-cough", "noise", "breakfast", "cough", 2.0, "lobby", {}),
    ("rv-noise-booth-keys-clip", "noise", "wifi", "keys", 1.5, "booth", CLIP),
    ("rv-echo-lobby-long-clip", "echo-only", "long", None, 0.0, "lobby", CLIP),
    ("rv-echo-office-amp", "echo-only", "long", None, 0.0, "office", AMP),
    ("rv-echo-booth-loud", "echo-only", "breakfast", None, 0.0, "booth", {"echo_gain_db": 10}),
]
HELD = [
    ("hb-int-corridor-no", "interrupt", "museum", "engb_no", 2.0, "corridor", {}),
    ("hb-int-corridor-stop-soft-quiet12", "interrupt", "train", "engb_stop_soft", 2.4, "corridor", QUIET_12),
    ("hb-int-kitchen-nose-clip", "interrupt", "clinic", "ru_nose", 3.0, "kitchen", CLIP),
    ("hb-int-kitchen-hatcoat", "interrupt", "library", "ru_hat_coat", 1.6, "kitchen", {}),
    ("hb-int-shop-eye-soft", "interrupt", "museum", "lt_eye_soft", 4.2, "shop", {}),
    ("hb-int-shop-shoe-quiet15", "interrupt", "clinic", "lt_shoe", 5.5, "shop", QUIET_15),
    ("hb-int-tiled-flower-amp", "interrupt", "train", "gl_flower_tie", 2.0, "tiled", AMP),
    ("hb-int-tiled-mouth-soft-clip", "interrupt", "clinic", "gl_mouth_soft", 6.5, "tiled", CLIP),
    ("hb-int-corridor-ball-noise", "interrupt", "library", "el_ball", 1.2, "corridor",
     {"noise": "white", "noise_dbfs": -50}),
    ("hb-int-shop-hair-soft-quiet12", "interrupt", "museum", "uk_hair_soft", 3.3, "shop", QUIET_12),
    ("hb-int-kitchen-bc-quiet10", "interrupt", "train", "fr_b_c", 1.8, "kitchen",
     {"echo_gain_db": 7, "caller_gain_db": -3}),
    ("hb-int-tiled-d-short", "interrupt", "library", "fr_d", 2.6, "tiled", {}),
    ("hb-int-shop-no-clip-noise", "interrupt", "clinic", "engb_no", 7.5, "shop",
     {**CLIP, "noise": "pink", "noise_dbfs": -48}),
    ("hb-int-simple-hatcoat-soft", "interrupt", "museum", "uk_hair_soft", 2.9, None,
     {"speaker_clip": 1.0, "echo_gain_db": 10, "rt60_s": 0.5, "noise": "white", "noise_dbfs": -50}),
    ("hb-int-simple-no-quiet15", "interrupt", "train", "engb_no", 1.4, None,
     {"echo_gain_db": 10, "caller_gain_db": -5, "rt60_s": 0.6, "echo_delay_ms": 30}),
    ("hb-int-corridor-d-amp", "interrupt", "clinic", "fr_d", 4.8, "corridor", AMP),
    ("hb-bc-shop-okay", "backchannel", "clinic", "okay_hb", 3.0, "shop", {}),
    ("hb-bc-kitchen-mm-hmm", "backchannel", "museum", "mm_hmm_hb", 2.5, "kitchen", {"echo_gain_db": 4}),
    ("hb-bc-corridor-yeah", "backchannel", "clinic", "yeah_hb", 5.0, "corridor", CLIP),
    ("hb-noise-shop-door", "noise", "museum", "door_hb", 2.0, "shop", {}),
    ("hb-noise-tiled-cough", "noise", "clinic", "cough_hb", 3.0, "tiled", {"caller_gain_db": 4}),
    ("hb-noise-kitchen-keys", "noise", "train", "keys_hb", 1.5, "kitchen", CLIP),
    ("hb-echo-tiled-long", "echo-only", "clinic", None, 0.0, "tiled", {"echo_gain_db": 6}),
    ("hb-echo-corridor-clip", "echo-only", "clinic", None, 0.0, "corridor", CLIP),
    ("hb-echo-kitchen-amp", "echo-only", "clinic", None, 0.0, "kitchen", AMP),
    ("hb-echo-shop-quiet", "echo-only", "museum", None, 0.0, "shop", {"echo_gain_db": -6}),
    ("hb-echo-simple-clip-asym", "echo-only", "clinic", None, 0.0, None,
     {"speaker_clip": 1.2, "speaker_asymmetry": 0.6, "echo_gain_db": 8, "rt60_s": 0.6}),
    ("hb-echo-simple-noisy", "echo-only", "train", None, 0.0, None,
     {"noise": "pink", "noise_dbfs": -45, "echo_gain_db": 3}),
]

# Held-back backchannels and noises: espeak-ng voices and noise seeds the tuning half does not use
# (no real recording of a backchannel is packaged here).
HELD_SYNTH = {"okay_hb": ("en-gb-x-rp+m7", "okay"), "mm_hmm_hb": ("en-us+m2", "mm-hmm"),
              "yeah_hb": ("en-029+f1", "yeah")}
HELD_NOISES = {"door_hb": (door_slam, -14.0), "cough_hb": (cough, -20.0), "keys_hb": (keys, -26.0)}


def read_16k(path: Path) -> np.ndarray:
    samples, rate = soundfile.read(path, dtype="float64", always_2d=True)
    return soxr.resample(samples[:, 0], rate, RATE)


def trimmed(samples: np.ndarray) -> np.ndarray:
    """Drop leading and trailing frames more than 40 dB under the loudest 10 ms."""
    frames = samples[: len(samples) // 160 * 160].reshape(-1, 160)
    power = np.mean(frames**2, axis=1)
    loud = np.flatnonzero(power >= power.max() * 1e-4)
    return samples[loud[0] * 160: (loud[-1] + 1) * 160]


def phrase(folder: Path, stems: list[str], soft: bool) -> np.ndarray:
    gap = np.zeros(int(0.12 * RATE))
    parts = []
    for stem in stems:
        parts += [trimmed(read_16k(folder / f"{stem}.ogg")), gap]
    speech = np.concatenate([np.zeros(int(0.2 * RATE))] + parts)
    speech = normalise(speech)
    if soft:
        start = int(0.2 * RATE)
        ramp = int(SOFT_ONSET_S * RATE)
        speech[start:start + ramp] *= 0.5 - 0.5 * np.cos(np.pi * np.arange(ramp) / ramp)
    return np.clip(speech, -1, 1)


def write_audio(folder: Path, voices: dict) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    for stem, (source, stems, _text, soft) in voices.items():
        soundfile.write(folder / f"{stem}.wav", phrase(source, stems, soft), RATE, subtype="PCM_16")


def write_held_back_extras(folder: Path) -> None:
    from generate import espeak

    for stem, (voice, text) in HELD_SYNTH.items():
        samples, rate = espeak(voice, text)
        soundfile.write(folder / f"{stem}.wav", normalise(samples), rate, subtype="PCM_16")
    for stem, (make, level) in HELD_NOISES.items():
        samples = normalise(make(np.random.default_rng(1234)), level)
        soundfile.write(folder / f"{stem}.wav", np.clip(samples, -1, 1), RATE, subtype="PCM_16")


def write_scenarios(folder: Path, scenarios: list, voices: dict, agents: dict, rooms: dict,
                    texts: dict[str, str], prefix: str) -> None:
    for old in folder.glob(f"{prefix}*.toml"):
        old.unlink()
    for name, kind, agent, caller, at_s, preset, overrides in scenarios:
        text = None if caller is None else (voices[caller][2] if caller in voices else texts.get(caller))
        room = {} if preset is None else {"model": "shoebox"} | rooms[preset]
        (folder / f"{name}.toml").write_text(
            scenario_toml(name, kind, agents[agent], caller, text, at_s, room | overrides))


if __name__ == "__main__":
    tune_dir, held_dir = HERE / "suite", HERE / "held-back"
    write_audio(tune_dir / "audio", TUNE_VOICES)
    write_audio(held_dir / "audio", HELD_VOICES)
    write_held_back_extras(held_dir / "audio")
    write_scenarios(tune_dir, TUNE, TUNE_VOICES, AGENT, TUNE_ROOMS, {}, "rv-")
    write_scenarios(held_dir, HELD, HELD_VOICES, HELD_AGENT, HELD_ROOMS,
                    {stem: text for stem, (_voice, text) in HELD_SYNTH.items()}, "hb-")
