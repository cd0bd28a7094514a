"""Errors that reach the user as one line, never as a traceback.

Every error here names the file (or device), the key and what was expected, so
that an installer can fix the input without reading code. The CLI turns them
into a single line on stderr and a non-zero exit code.
"""

from __future__ import annotations


class ApplianceError(Exception):
    """A problem the user can fix; the message is the whole explanation.

    Exit code 2 for every one of them, like grep: 2 means "could not run"
    (bad input, configuration, model or device), while 1 stays free for a
    command that ran and found "no" (no wake word, a FAIL in doctor).
    """

    exit_code = 2


class ConfigError(ApplianceError):
    """A configuration or scenario file that does not match its schema."""

    def __init__(self, path: str, key: str, expected: str) -> None:
        self.path = path
        self.key = key
        self.expected = expected
        super().__init__(f"{path}: {key}: {expected}")


class ModelError(ApplianceError):
    """A model file that is missing, corrupt or cannot be fetched."""


class AudioDeviceError(ApplianceError):
    """A sound device that does not exist or refuses the requested format."""


class AudioFileError(ApplianceError):
    """A file that is not audio the kiosk can read."""


class MissingDependencyError(ApplianceError):
    """An optional heavy library that is not installed."""
