"""Builds the kiosk root the image tests look at: plain Debian bookworm from
mmdebstrap, the install stage as its customize hook, once per session.

Run by `make image-test` (amd64) and `make image-test-arm64` (through
qemu-user). Root only; where mmdebstrap, systemd-nspawn or qemu cannot run
the tests fail and say what is missing, they never skip.
"""

from __future__ import annotations

import os
import platform
import shutil
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
STAGE = REPO / "image-build" / "stage"
CACHE = Path.home() / ".cache" / "appliance-build"
MACHINE = {"amd64": "x86_64", "arm64": "aarch64"}


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption("--arch", default="amd64", choices=sorted(MACHINE), help="the root's architecture")
    parser.addoption("--wheelhouse", default="", help="wheels for that architecture (make wheelhouse)")
    parser.addoption("--board", default="respeaker-2mic-wm8960", help="a folder of hardware/")
    parser.addoption("--site", default=str(REPO / "image-build" / "site-example"), help="site folder")


@dataclass(frozen=True)
class KioskRoot:
    path: Path
    arch: str
    board: str
    site: Path
    build_s: float
    size_mb: float


def missing_prerequisite(arch: str) -> str | None:
    """Why a root of `arch` cannot be built and booted here, or None."""
    if os.geteuid() != 0:
        return "the image tests need root (mmdebstrap, chroot and systemd-nspawn)"
    for tool, package in (("mmdebstrap", "mmdebstrap"), ("systemd-nspawn", "systemd-container")):
        if shutil.which(tool) is None:
            return f"{tool} is missing: apt-get install {package}"
    if MACHINE[arch] != platform.machine():
        if shutil.which("arch-test") is None:
            return "arch-test is missing (mmdebstrap needs it for a foreign root): apt-get install arch-test"
        handler = Path("/proc/sys/fs/binfmt_misc/qemu-aarch64")
        if not handler.exists():
            return ("no binfmt handler for aarch64: apt-get install qemu-user-static binfmt-support, "
                    "then mount -t binfmt_misc binfmt_misc /proc/sys/fs/binfmt_misc && "
                    "/lib/systemd/systemd-binfmt /usr/lib/binfmt.d/qemu-aarch64.conf")
        flags = next((line.split(":", 1)[1] for line in handler.read_text().splitlines()
                      if line.startswith("flags:")), "")
        if "F" not in flags:
            return f"{handler} lacks the F flag: qemu cannot run inside a chroot"
    return None


def build_root(root: Path, arch: str, wheelhouse: Path, board: str, site: Path) -> None:
    """mmdebstrap a bookworm root with the kiosk's packages and run the stage in it.

    Downloaded .deb files are kept in ~/.cache/appliance-build/apt-ARCH, so a
    second build only unpacks.
    """
    packages = [line.strip() for line in (STAGE / "packages").read_text().splitlines()
                if line.strip() and not line.startswith("#")]
    apt_cache = CACHE / f"apt-bookworm-{arch}"
    apt_cache.mkdir(parents=True, exist_ok=True)
    env = dict(os.environ, WHEELHOUSE=str(wheelhouse), BOARD=board, SITE=str(site))
    command = [
        "mmdebstrap", "--variant=apt", f"--arch={arch}", "--skip=essential/unlink",
        f"--include={','.join(packages)}",
        "--setup-hook=mkdir -p \"$1\"/var/cache/apt/archives/",
        f"--setup-hook=sync-in {apt_cache} /var/cache/apt/archives/",
        f"--customize-hook=sync-out /var/cache/apt/archives {apt_cache}",
        f"--customize-hook={STAGE / 'install.sh'} \"$1\"",
        "bookworm", str(root),
    ]
    result = subprocess.run(command, env=env, capture_output=True, text=True)
    if result.returncode != 0:
        pytest.fail(f"building the {arch} root failed:\n{result.stderr[-3000:]}", pytrace=False)


@pytest.fixture(scope="session")
def kiosk_root(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> KioskRoot:
    arch = request.config.getoption("--arch")
    problem = missing_prerequisite(arch)
    if problem:
        pytest.fail(f"cannot build a {arch} root here: {problem}", pytrace=False)
    wheelhouse = Path(request.config.getoption("--wheelhouse")
                      or REPO / "out" / f"wheelhouse-{MACHINE[arch]}")
    if not any(wheelhouse.glob(f"llama_cpp_python-*_{MACHINE[arch]}.whl")):
        pytest.fail(f"no {MACHINE[arch]} wheelhouse in {wheelhouse}: `make wheelhouse` on that architecture, "
                    "or image-build/wheelhouse-in-root for arm64 under qemu (image-build/README.md)",
                    pytrace=False)
    root = tmp_path_factory.mktemp("kiosk") / "root"
    started = time.monotonic()
    build_root(root, arch, wheelhouse, request.config.getoption("--board"),
               Path(request.config.getoption("--site")))
    build_s = time.monotonic() - started
    size = subprocess.run(["du", "-sxm", str(root)], capture_output=True, text=True, check=True)
    kiosk = KioskRoot(root, arch, request.config.getoption("--board"),
                      Path(request.config.getoption("--site")), build_s, float(size.stdout.split()[0]))
    print(f"\n{arch} kiosk root built in {build_s:.0f} s, {kiosk.size_mb:.0f} MB")
    return kiosk
