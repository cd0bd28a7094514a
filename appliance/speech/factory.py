"""`open_recognizer()`: the factory that picks a speech recogniser backend from the config.

vosk when a vosk model is configured and installed, else Moonshine base
English when installed, else pocketsphinx's bundled en-us model; it logs which
and why, and only the chosen one is loaded. It sits above the `Recognizer`
interface (`speech/asr.py`) and the backends that implement it, so the
interface never imports an implementation (gpiozero's pin factories).
"""

from __future__ import annotations

import logging
from pathlib import Path

from appliance.config import AsrSettings
from appliance.errors import ConfigError, ModelError
from appliance.models import require
from appliance.speech.asr import Recognizer

log = logging.getLogger(__name__)


def choose_backend(settings: AsrSettings, models_dir: Path) -> tuple[str, str]:
    """The backend to use and why, following `settings.backend`."""
    if settings.backend != "auto":
        return settings.backend, "configured"
    if settings.vosk_model and (models_dir / settings.vosk_model).is_dir():
        return "vosk", f"vosk model {settings.vosk_model} is configured and installed"
    if (models_dir / settings.moonshine_model).is_dir():
        return "moonshine", f"Moonshine model {settings.moonshine_model} is installed"
    return "pocketsphinx", f"neither a vosk model nor {settings.moonshine_model} in {models_dir}"


def open_recognizer(settings: AsrSettings, models_dir: Path) -> Recognizer:
    """A recogniser for `settings`; only the chosen backend's model is loaded."""
    backend, reason = choose_backend(settings, models_dir)
    if backend == "vosk":
        from appliance.speech.vosk_asr import VoskRecognizer

        recognizer: Recognizer = VoskRecognizer(require_vosk_model(settings, models_dir), settings)
    elif backend == "moonshine":
        from appliance.speech.moonshine import int8_names
        from appliance.speech.moonshine_asr import MoonshineRecognizer

        model = require(settings.moonshine_model, models_dir)
        graphs = None
        if settings.moonshine_int8:
            encoder, decoder = int8_names(settings.moonshine_model)
            graphs = (require(encoder, models_dir), require(decoder, models_dir))
        recognizer = MoonshineRecognizer(model, settings, graphs)
    else:
        from appliance.speech.sphinx_asr import SphinxRecognizer

        recognizer = SphinxRecognizer(settings)
    log.info("ASR backend %s (%s)", backend, reason)
    return recognizer


def require_vosk_model(settings: AsrSettings, models_dir: Path) -> Path:
    """The verified vosk model directory, or a ModelError naming the key to change."""
    if not settings.vosk_model:
        raise ConfigError("<config>", "asr.vosk_model", "a vosk model directory for asr.backend = \"vosk\"")
    path = require(settings.vosk_model, models_dir)
    if not (path / "am").is_dir() and not (path / "conf").is_dir():
        raise ModelError(f"{path}: asr.vosk_model is not a vosk model directory")
    return path
