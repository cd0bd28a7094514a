"""The kiosk's configuration: one TOML file, one frozen dataclass per subsystem.

Loaded once at start-up, validated completely, then passed to each subsystem;
nothing reads the file again at run time. `appliance.example.toml` at the top
of the checkout documents every key and is checked against these classes by
the tests.
"""

from __future__ import annotations

import dataclasses
import os
from dataclasses import dataclass
from pathlib import Path
from typing import ClassVar

from appliance.settings import as_toml, load_section, read_toml, setting

DEVICE_CONFIG_PATH = Path("/etc/appliance/appliance.toml")
DEVICE_MODELS_DIR = Path("/var/lib/appliance/models")
CHECKOUT_DIR = Path(__file__).resolve().parent.parent


@dataclass(frozen=True)
class AudioSettings:
    backend: str = setting("alsa", "sound device implementation", choices=("alsa", "sim"))
    capture_device: str = setting("default", "ALSA capture PCM, e.g. plughw:CARD=seeed2micvoicec")
    playback_device: str = setting("default", "ALSA playback PCM on the same card as capture")
    card_rate_hz: int = setting(48000, "sample rate asked of the card, Hertz", min=8000, max=192000)
    card_format: str = setting(
        "S16_LE", "sample format asked of the card", choices=("S16_LE", "S24_LE", "S32_LE")
    )
    capture_channels: int = setting(1, "channels asked of the capture PCM; channel 0 is used", min=1, max=8)
    playback_channels: int = setting(
        2, "channels asked of the playback PCM; all get the same signal", min=1, max=8
    )
    period_ms: int = setting(10, "duplex loop period, milliseconds", min=5, max=20)
    periods: int = setting(3, "ALSA periods in the playback buffer", min=2, max=4)
    speaker_queue_periods: int = setting(
        2, "agent audio held beyond the card buffer, periods (bounds cut latency)", min=1, max=8
    )
    fade_ms: float = setting(10.0, "raised-cosine fade applied by a cut, milliseconds", min=5, max=20)
    cut_rewinds_card: bool = setting(
        True, "a cut takes back what the card buffer holds (PCM drop) and fades from the next "
        "unheard sample; false fades after it (+1 buffer of latency) for drivers whose fill "
        "is not what avail() reports, e.g. PulseAudio",
    )
    realtime_priority: int = setting(
        50, "SCHED_FIFO priority of the audio thread; 0 leaves it at normal priority", min=0, max=99
    )


@dataclass(frozen=True)
class AecSettings:
    engine: str = setting(
        "speex", "echo canceller: speex (built in); webrtc-aec3 or webrtc-legacy are optional peers "
        "(make peers) the bench compares it with", choices=("speex", "webrtc-aec3", "webrtc-legacy"),
    )
    frame_ms: int = setting(10, "echo canceller frame, milliseconds", choices=(10, 20))
    filter_ms: int = setting(256, "echo canceller filter length (tail), milliseconds", min=32, max=500)
    extra_delay_ms: float = setting(
        0.0, "added to the measured playback-to-capture delay, milliseconds", min=-50, max=200
    )
    residual_suppression: bool = setting(True, "run the speex preprocessor with the echo state")
    echo_suppress_db: int = setting(-40, "residual echo suppression, decibels", min=-90, max=0)
    echo_suppress_active_db: int = setting(
        -15, "residual echo suppression while the caller talks, decibels", min=-90, max=0
    )
    noise_suppress_db: int = setting(
        0, "noise suppression by the same preprocessor, decibels; 0 leaves noise untouched",
        min=-60, max=0,
    )
    pretrain_s: float = setting(
        4.0, "length of the start-up calibration burst that trains the filter, seconds", min=0, max=30
    )
    pretrain_dbfs: float = setting(
        -26.0, "RMS level of the calibration burst sent to the speaker (about speech level), dBFS",
        min=-60, max=-6,
    )
    delay_margin_ms: float = setting(
        12.0, "the reference is delayed this much less than measured, so it never lags the echo "
        "(the delay read from avail() jitters by about a period), milliseconds", min=0, max=50
    )
    erle_time_constant_s: float = setting(
        1.0, "smoothing of the run-time ERLE and echo-leak estimates, seconds", min=0.05, max=30
    )


@dataclass(frozen=True)
class DetectorSettings:
    vad_threshold: float = setting(0.5, "Silero speech probability counted as speech", min=0, max=1)
    double_talk_margin_db: float = setting(
        5.0, "residual must exceed the predicted echo leak by this much, decibels", min=0, max=40
    )
    onset_ms: int = setting(30, "speech needed before ducking the agent, milliseconds", min=10, max=500)
    onset_vad_threshold: float = setting(
        0.25, "Silero probability enough for an onset when the residual is far above the echo bound",
        min=0, max=1,
    )
    onset_extra_margin_db: float = setting(
        10.0, "how much further above the echo bound such a loud onset frame must be, decibels",
        min=0, max=60,
    )
    duck_vad_threshold: float = setting(
        0.5, "Silero probability enough to duck (never to cut) when the residual clears the echo "
        "bound by double_talk_margin_db; under vad_threshold it ducks soft onsets sooner (0.3 did on "
        "the bench, but kept the sim's correction from cutting: off until understood)", min=0, max=1,
    )
    duck_energy_margin_db: float = setting(
        15.0, "a residual this far above the echo bound ducks the agent whatever the VAD says yet "
        "(Silero lags soft real onsets by 50-130 ms); such a duck is confirmed into a cut only by "
        "vad_threshold speech, so a cough or a door ducks for a moment and restores; decibels; 60 = off",
        min=0, max=60,
    )
    vad_cleaned_below_erle_db: float = setting(
        15.0, "the VAD listens to the suppressed signal instead of the linear residual while the "
        "canceller's ERLE is below this (a clipping loudspeaker leaves echo in the residual that masks "
        "the caller), decibels; -100 = never", min=-100, max=60,
    )
    vad_cleaned_above_echo_rate: float = setting(
        0.25, "... or once the VAD has heard speech in more than this fraction of the agent's echo-only "
        "frames of the residual (1-s average); 1 = never", min=0, max=1,
    )
    confirm_ms: int = setting(
        100, "speech (onset included) needed before cutting the agent, milliseconds",
        min=20, max=2000,
    )
    release_ms: int = setting(
        300, "no speech for this long after an onset restores the agent, milliseconds", min=50, max=3000
    )
    duck_db: float = setting(-15.0, "agent gain while an onset is being confirmed, decibels", min=-60, max=0)
    duck_ramp_ms: float = setting(8.0, "ramp into the duck, milliseconds", min=1, max=200)
    restore_ramp_ms: float = setting(120.0, "ramp back to full volume, milliseconds", min=1, max=1000)
    min_residual_dbfs: float = setting(
        -55.0, "residual quieter than this is never speech, dBFS", min=-96, max=0
    )
    echo_decay_db_per_s: float = setting(
        50.0, "fastest fall assumed for the echo after the far end drops (60 dB / RT60), "
        "decibels per second", min=10, max=2000,
    )
    initial_leak_db: float = setting(
        0.0, "echo leak (cleaned vs far-end power) assumed before any measurement, decibels",
        min=-80, max=20,
    )
    agent_active_dbfs: float = setting(
        -60.0, "far-end power above which the agent counts as speaking, dBFS", min=-96, max=0
    )
    leak_deviations: float = setting(
        1.5, "predicted echo leak = its mean + this many mean absolute deviations (in dB)",
        min=0, max=10,
    )
    leak_min_spread_db: float = setting(
        3.0, "floor of the echo leak's mean absolute deviation used in that bound, decibels",
        min=0, max=20,
    )


@dataclass(frozen=True)
class WakeSettings:
    enabled: bool = setting(True, "listen for the wake word")
    model: str = setting("hey_jarvis", "openWakeWord model name (a file in the models directory)")
    threshold: float = setting(0.5, "detection score threshold", min=0, max=1)
    patience_frames: int = setting(2, "80 ms frames above threshold before a detection", min=1, max=20)


@dataclass(frozen=True)
class AsrSettings:
    backend: str = setting(
        "auto", "recogniser; auto = vosk when vosk_model is set and installed, else Moonshine "
        "when installed, else pocketsphinx",
        choices=("auto", "moonshine", "vosk", "pocketsphinx"),
    )
    vosk_model: str = setting("", "vosk model directory in the models directory; empty = none")
    moonshine_model: str = setting("moonshine-base-en", "Moonshine model directory in the models directory")
    moonshine_int8: bool = setting(
        True, "Moonshine runs the int8 graphs derived at install; false = the wheel's own "
        "(same text, decoder steps about 8x slower)",
    )
    threads: int = setting(1, "onnxruntime threads for Moonshine", min=1, max=8)
    incremental: bool = setting(
        True, "Moonshine decodes while the caller speaks, so only the last words wait for the endpoint"
    )
    draft_pause_ms: int = setting(
        120, "a pause this long while the caller speaks starts a background decode, milliseconds",
        min=20, max=2000,
    )
    preroll_ms: int = setting(400, "audio kept before the detected onset, milliseconds", min=300, max=2000)
    endpoint_silence_ms: int = setting(
        400, "silence that ends an utterance, milliseconds", min=100, max=5000
    )
    max_utterance_s: float = setting(12.0, "longest utterance, seconds", min=1, max=60)


@dataclass(frozen=True)
class TtsSettings:
    voice: str = setting("en_US-joe-medium", "piper voice (a .onnx file in the models directory)")
    length_scale: float = setting(1.0, "speaking slowness; larger is slower", min=0.5, max=2.0)
    gain_db: float = setting(0.0, "gain applied to synthesised speech, decibels", min=-40, max=12)
    clause_min_words: int = setting(
        4, "a clause ends at a comma only once it has this many words", min=1, max=50
    )
    noise_scale: float | None = setting(
        None, "piper's generator noise; unset = the voice's own, 0 = the same audio every time",
        min=0, max=2,
    )
    noise_w_scale: float | None = setting(
        None, "piper's phoneme-length noise; unset = the voice's own, 0 = deterministic", min=0, max=2
    )


@dataclass(frozen=True)
class LlmSettings:
    model: str = setting(
        "SmolLM2-135M-Instruct.Q4_1.gguf", "GGUF file, in the models directory or an absolute path"
    )
    system_prompt: str = setting(
        "You are {role} of {name}. Answer the guest in one short spoken sentence, using only "
        "the facts given with the question.",
        "the kiosk persona; {name} and {role} are the knowledge file's; the facts that answer "
        "each question are added to it by retrieval, never written here",
    )
    max_tokens: int = setting(80, "longest reply, tokens", min=8, max=1024)
    max_sentences: int = setting(2, "longest reply, sentences (a kiosk answers briefly)", min=1, max=20)
    max_words: int = setting(
        24, "longest reply, words (about 8 s of speech at the voice's ~3 words a second)", min=4, max=200
    )
    temperature: float = setting(0.3, "sampling temperature", min=0, max=2)
    seed: int = setting(1, "sampling seed, so a replayed conversation samples the same way", min=0)
    repeat_penalty: float = setting(1.3, "llama.cpp repetition penalty", min=1, max=2)
    context_tokens: int = setting(2048, "context window, tokens", min=256, max=32768)
    threads: int = setting(2, "CPU threads for generation", min=1, max=16)
    timeout_s: float = setting(10.0, "give up on a reply after this long, seconds", min=1, max=120)
    fallback_text: str = setting(
        "Sorry, I lost my train of thought. Could you say that again?",
        "spoken when the LLM fails or times out",
    )
    # Measured on SmolLM2-135M (8 seeds, a cut breakfast answer, then "I meant
    # dinner"): with the note "The guest interrupted you there." it parroted the
    # note in 5 of 8 replies and gave dinner's hours in 0; with no note, 0 and 8.
    # The cut reply itself, ending mid-sentence, is what tells a small model.
    interruption_note: str = setting(
        "",
        "system note placed after a reply the guest cut off (worth it for 1B+ models); empty = none",
    )
    follow_up_s: float = setting(
        8.0, "after the agent finishes, a question needs no wake word for this long, seconds",
        min=0, max=60,
    )


@dataclass(frozen=True)
class KnowledgeSettings:
    file: str = setting("", "the site's knowledge file (TOML, see docs/knowledge.md); empty = the demo hotel")
    # Measured on the answer evaluation (docs/knowledge.md): SmolLM2-135M's
    # clauses passed the grounding and topic checks in 2 of 24 answers, and
    # waiting for them cost ~1 s before the first clause; the fact's own text
    # scored the same accuracy at ~1 ms. "model" is for a 1B+ model.
    phrasing: str = setting(
        "fact", "who words an answer: the best fact's own text, or the LLM from the retrieved "
        "facts with each clause checked (the LLM is loaded only for \"model\")",
        choices=("fact", "model"),
    )
    max_facts: int = setting(2, "facts retrieved for one question and shown to the model", min=1, max=10)
    min_coverage: float = setting(
        0.4, "share of a question's content words (rarity-weighted) a fact must contain to answer it",
        min=0, max=1,
    )
    second_fact_ratio: float = setting(
        0.8, "a second fact is shown only if it scores this share of the best one", min=0, max=1
    )
    max_question_chars: int = setting(
        400, "longest question passed to the model, characters (retrieval reads it all)", min=20
    )


@dataclass(frozen=True)
class GpioSettings:
    enabled: bool = setting(False, "use GPIO at all")
    button_pin: int | None = setting(None, "push-to-talk button, BCM pin number", min=0, max=27)
    button_active_low: bool = setting(True, "button pulls the pin to ground when pressed")
    led_pin: int | None = setting(None, "status LED, BCM pin number", min=0, max=27)
    led_active_high: bool = setting(True, "LED lights when the pin is high")
    amp_enable_pin: int | None = setting(
        None, "amplifier enable (MAX98357A SD), BCM pin number", min=0, max=27
    )
    amp_idle_off_s: float = setting(30.0, "switch the amplifier off after this much silence, seconds", min=1)
    amp_wake_ms: float = setting(
        20.0, "wait after enabling the amplifier before audio, milliseconds", min=0, max=500
    )
    amp_active_high: bool = setting(True, "amplifier runs while the enable pin is high (MAX98357A SD)")
    led_pwm: bool = setting(False, "the LED pin can dim (PWM): breathe and pulse instead of plain blinks")
    button_bounce_ms: float = setting(
        20.0, "ignore button contact bounce shorter than this, milliseconds", min=0, max=200
    )

    REMOVED: ClassVar[dict[str, str]] = {
        "hold_ms": "removed (a held button never ended the utterance; a press is all that counts); "
                   "delete the key",
    }


@dataclass(frozen=True)
class ServiceSettings:
    models_dir: str = setting(
        "", "model directory; empty = models/ in a checkout, /var/lib/appliance/models on a device"
    )
    state_dir: str = setting("/var/lib/appliance", "writable state: events, recordings")
    events_path: str = setting(
        "", "JSON-lines event log, relative to state_dir unless absolute; empty = no file"
    )
    log_level: str = setting("info", "log verbosity", choices=("debug", "info", "warning", "error"))


@dataclass(frozen=True)
class ScreenSettings:
    enabled: bool = setting(False, "serve the kiosk's screen (captions, state, a talk button) over HTTP")
    host: str = setting(
        "127.0.0.1", "address the screen listens on when systemd passes no socket; keep it loopback"
    )
    port: int = setting(8765, "TCP port of the screen when systemd passes no socket", min=1, max=65535)
    idle_clear_s: float = setting(
        20.0, "after this long back in idle the screen shows nothing of the last guest's "
        "conversation (also when the page loses the kiosk), seconds", min=0, max=600,
    )
    queue_views: int = setting(
        32, "screen updates held for the web server; the oldest is dropped when it falls behind",
        min=2, max=1024,
    )


@dataclass(frozen=True)
class PrivacySettings:
    """What the kiosk keeps about the people who talk to it (docs/privacy.md)."""

    log_transcripts: bool = setting(
        False, "write what the guest said to the events file and the journal; false keeps only "
        "its word count and kind (request, backchannel, empty)",
    )
    log_replies: bool = setting(
        False, "write the agent's replies (which can repeat the guest's words) the same way; "
        "false keeps only word counts",
    )
    retention_days: int = setting(
        7, "delete rotated events files older than this, days", min=1, max=3650
    )
    max_events_mb: float = setting(
        20.0, "the events file and its rotations together stay under this, megabytes",
        min=0.1, max=10000,
    )


@dataclass(frozen=True)
class Config:
    audio: AudioSettings = dataclasses.field(default_factory=AudioSettings)
    aec: AecSettings = dataclasses.field(default_factory=AecSettings)
    detector: DetectorSettings = dataclasses.field(default_factory=DetectorSettings)
    wake: WakeSettings = dataclasses.field(default_factory=WakeSettings)
    asr: AsrSettings = dataclasses.field(default_factory=AsrSettings)
    tts: TtsSettings = dataclasses.field(default_factory=TtsSettings)
    llm: LlmSettings = dataclasses.field(default_factory=LlmSettings)
    knowledge: KnowledgeSettings = dataclasses.field(default_factory=KnowledgeSettings)
    gpio: GpioSettings = dataclasses.field(default_factory=GpioSettings)
    screen: ScreenSettings = dataclasses.field(default_factory=ScreenSettings)
    service: ServiceSettings = dataclasses.field(default_factory=ServiceSettings)
    privacy: PrivacySettings = dataclasses.field(default_factory=PrivacySettings)

    def models_dir(self) -> Path:
        """Where models live: the configured path, a checkout's models/, or the device path."""
        if self.service.models_dir:
            return Path(self.service.models_dir)
        checkout_models = CHECKOUT_DIR / "models"
        if (checkout_models / "manifest.toml").exists() and (CHECKOUT_DIR / "pyproject.toml").exists():
            return checkout_models
        return DEVICE_MODELS_DIR

    def events_path(self) -> Path | None:
        """The configured events file, relative paths inside the state directory."""
        if not self.service.events_path:
            return None
        return Path(self.service.state_dir) / self.service.events_path


def default_config_path() -> Path | None:
    """The device config if it exists; a checkout runs on defaults otherwise."""
    env = os.environ.get("APPLIANCE_CONFIG")
    if env:
        return Path(env)
    return DEVICE_CONFIG_PATH if DEVICE_CONFIG_PATH.exists() else None


def load_config(path: Path | str | None = None) -> Config:
    """Read and validate a config file; `None` gives the defaults."""
    if path is None:
        return Config()
    path = Path(path)
    table = read_toml(path)
    return parse_config(table, str(path))


def parse_config(table: dict, path: str = "<config>") -> Config:
    """Validate an already-parsed TOML table."""
    return load_section(Config, table, path)


def render_config(config: Config) -> str:
    """The effective configuration as documented TOML."""
    return as_toml(config)
