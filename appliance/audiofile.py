"""Reading and writing WAV files at the kiosk's internal format.

Any rate and channel count is accepted: the first channel is kept and
resampled to 16 kHz with soxr. A file that is not audio gives one line
naming the file, never a traceback.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import soundfile
import soxr

from appliance.errors import AudioFileError
from appliance.messages import SAMPLE_RATE_HZ


def to_int16(samples: np.ndarray) -> np.ndarray:
    """Float samples in [-1, 1] to int16, clipping rather than wrapping."""
    return np.clip(np.round(samples * 32767.0), -32768, 32767).astype(np.int16)


def resample(samples: np.ndarray, from_hz: int, to_hz: int = SAMPLE_RATE_HZ) -> np.ndarray:
    """Resample a whole mono signal (float or int16) with soxr; int16 stays int16."""
    if from_hz == to_hz:
        return samples
    return soxr.resample(samples, from_hz, to_hz, quality="HQ")


def read_wav(path: Path | str, rate_hz: int = SAMPLE_RATE_HZ) -> np.ndarray:
    """Mono int16 samples of `path` at `rate_hz` (first channel if several)."""
    if not Path(path).is_file():  # libsndfile would only say "System error."
        raise AudioFileError(f"{path}: " + ("a WAV file, not a directory" if Path(path).is_dir()
                                            else "file does not exist"))
    try:
        data, file_rate = soundfile.read(str(path), dtype="float32", always_2d=True)
    except (soundfile.LibsndfileError, RuntimeError, OSError) as error:
        raise AudioFileError(f"{path}: not a readable audio file ({error})") from None
    if data.shape[0] == 0:
        raise AudioFileError(f"{path}: contains no samples")
    mono = np.ascontiguousarray(data[:, 0])
    return to_int16(resample(mono, int(file_rate), rate_hz))


def write_wav(path: Path | str, samples: np.ndarray, rate_hz: int = SAMPLE_RATE_HZ) -> None:
    """Write int16 samples (mono, or frames x channels) as a 16-bit WAV."""
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    soundfile.write(str(path), samples, rate_hz, subtype="PCM_16")
