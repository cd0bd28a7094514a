"""Check a file the command will write before any long work starts.

A benchmark that runs for minutes and then cannot write its report loses every
result; `say --out notes.txt` would synthesise and then fail in libsndfile.
So every output path named on the command line goes through
`writable_output()` first: the right extension, not a directory, and a folder
this process can really create a file in (tried, not guessed from the mode
bits, which say nothing for root or a read-only mount).
"""

from __future__ import annotations

import tempfile
from pathlib import Path

from appliance.errors import ConfigError


def writable_output(path: Path | str, option: str, suffixes: tuple[str, ...] = ()) -> Path:
    """`path` if a file can be written there; otherwise a ConfigError naming `option`."""
    path = Path(path)
    kinds = " or ".join(suffixes)
    what = f"a writable {kinds} file" if kinds else "a writable file"
    if suffixes and path.suffix.lower() not in suffixes:
        raise ConfigError(str(path), option, f"{what} (the name must end in {kinds})")
    if path.is_dir():
        raise ConfigError(str(path), option, f"{what}, not a directory")
    writable_directory(path.parent, option, what)
    return path


def writable_directory(folder: Path | str, option: str, what: str = "a writable directory") -> Path:
    """Create `folder` if needed and prove a file can be made in it."""
    folder = Path(folder)
    existing = next(p for p in (folder, *folder.parents) if p.exists() or p == p.parent)
    if existing.exists() and not existing.is_dir():
        raise ConfigError(str(folder), option, f"{what} ({existing} is not a directory)")
    try:
        folder.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryFile(dir=folder):
            pass
    except OSError as error:
        raise ConfigError(str(folder), option, f"{what} ({error.strerror})") from None
    return folder
