"""Scripted callers for `appliance sim`: who says what, in which voice, and when.

A script is a TOML file with `[[line]]` tables, played in order. Each line has
the caller's `text`, a `voice` (an espeak-ng voice name, or "piper" for the
kiosk's own piper voice) or a recorded caller (`audio = "path.wav"`, relative
to the script, any rate, the first channel of a multi-channel file; `text` is
then what the recording says), and exactly one trigger:

- `at_s`: seconds after the simulation starts;
- `after_agent_word`: when the agent has played the Nth word of the reply it
  is giving (a barge-in or a backchannel over the agent);
- `when_agent_silent = true`: once the agent has been silent for `delay_s`
  (an answer is finished, or a wake word was acknowledged).

A line is armed only once the previous one has been spoken.
"""

from __future__ import annotations

import dataclasses
import subprocess
import tempfile
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from appliance.audiofile import read_wav, resample
from appliance.errors import ApplianceError, AudioFileError, ConfigError
from appliance.messages import SpeechChunk
from appliance.settings import load_section, read_toml, setting

DEFAULT_SCRIPT = Path(__file__).parent / "scripts" / "front_desk.toml"


@dataclass(frozen=True)
class CallerLine:
    text: str = setting("", "what the caller says")
    voice: str = setting("en-us", 'espeak-ng voice name, or "piper" for the kiosk\'s piper voice')
    audio: str = setting("", "a recording of the caller instead of a voice, relative to the script")
    speed_wpm: int = setting(160, "espeak-ng speaking rate, words per minute", min=80, max=400)
    gain_db: float = setting(0.0, "caller level at the microphone relative to the agent's echo, dB",
                             min=-30, max=30)
    at_s: float | None = setting(None, "trigger: seconds after the start", min=0)
    after_agent_word: int | None = setting(None, "trigger: after the agent's Nth word", min=1)
    when_agent_silent: bool = setting(False, "trigger: once the agent has been silent for delay_s")
    delay_s: float = setting(0.8, "silence before a when_agent_silent line, seconds", min=0, max=30)
    expect: str = setting("", "what the line is meant to show (printed in the timeline)")


@dataclass(frozen=True)
class Script:
    path: Path
    lines: tuple[CallerLine, ...]


def load_script(path: Path | None = None) -> Script:
    """Parse and validate a script; errors name the file and the line's key."""
    path = path or DEFAULT_SCRIPT
    table = read_toml(path)
    unknown = set(table) - {"line"}
    if unknown:
        raise ConfigError(str(path), sorted(unknown)[0], "unknown key; expected [[line]] tables")
    raw_lines = table.get("line")
    if not isinstance(raw_lines, list) or not raw_lines:
        raise ConfigError(str(path), "line", "at least one [[line]] table")
    lines = []
    for index, raw in enumerate(raw_lines):
        line = load_section(CallerLine, raw, str(path), f"line[{index}].")
        if not line.text.strip():
            raise ConfigError(str(path), f"line[{index}].text", "the words the caller says")
        triggers = [line.at_s is not None, line.after_agent_word is not None, line.when_agent_silent]
        if sum(triggers) != 1:
            raise ConfigError(str(path), f"line[{index}]",
                              "exactly one trigger: at_s, after_agent_word or when_agent_silent")
        if line.audio:
            line = dataclasses.replace(line, audio=str(_recording(path, index, line.audio)))
        lines.append(line)
    return Script(path, tuple(lines))


def _recording(script: Path, index: int, audio: str) -> Path:
    """The line's recording, relative to the script, checked readable now rather than mid-run."""
    recording = (script.parent / audio).resolve()
    try:
        read_wav(recording)
    except AudioFileError as error:
        raise ConfigError(str(script), f"line[{index}].audio", f"a readable audio file ({error})") from None
    return recording


def speak(line: CallerLine, piper: Callable[[str], Iterable[SpeechChunk]]) -> np.ndarray:
    """The caller's line at 16 kHz int16: its recording, espeak-ng, or `piper` (text → chunks)."""
    if line.audio:
        return read_wav(line.audio)
    if line.voice == "piper":
        parts = [resample(chunk.samples, chunk.rate_hz) for chunk in piper(line.text)]
        return np.concatenate(parts) if parts else np.zeros(0, dtype=np.int16)
    with tempfile.TemporaryDirectory() as workdir:
        wav = Path(workdir) / "line.wav"
        command = ["espeak-ng", "-v", line.voice, "-s", str(line.speed_wpm), "-w", str(wav), line.text]
        try:
            result = subprocess.run(command, capture_output=True, text=True, timeout=30)
        except FileNotFoundError:
            raise ApplianceError("espeak-ng is not installed (apt-get install espeak-ng)") from None
        if result.returncode != 0 or not wav.exists():
            reason = result.stderr.strip() or "no audio"
            raise ApplianceError(f"espeak-ng voice {line.voice!r}: {reason}")
        return read_wav(wav)
