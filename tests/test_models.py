"""The model manifest: validation, verification of installed files, installing from the registry."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from appliance import models
from appliance.cli import main
from appliance.config import Config
from appliance.errors import ConfigError, ModelError

INSTALLED = Config().models_dir()
SMALL = "silero_vad.onnx"


def test_manifest_pins_every_model():
    entries = models.load_manifest()
    names = {entry.file for entry in entries}
    assert {"hey_jarvis_v0.1.onnx", "melspectrogram.onnx", "embedding_model.onnx", "silero_vad.onnx",
            "en_US-joe-medium.onnx", "en_US-joe-medium.onnx.json",
            "SmolLM2-135M-Instruct.Q4_1.gguf", "vosk-model-small-en-us-0.15"} <= names
    for entry in entries:
        assert len(entry.sha256 or entry.archive_sha256) == 64, entry.file
        assert entry.role and entry.license, entry.file


def test_bad_manifest_entry_names_the_key(tmp_path):
    manifest = tmp_path / "manifest.toml"
    manifest.write_text('[[model]]\nfile = "x.onnx"\npackage = "p"\nversion = "1"\npath = "x"\n'
                        'sha256 = "00"\nsize = "big"\n')
    with pytest.raises(ConfigError, match=r"model\[0\]\.size"):
        models.load_manifest(manifest)


def test_installed_models_verify():
    for entry in models.load_manifest():
        if not entry.optional:
            assert models.check(entry, INSTALLED) is None, entry.file


def _entry(name: str) -> models.ModelEntry:
    return next(e for e in models.load_manifest() if e.file == name)


def test_one_corrupted_byte_fails_verify_and_names_the_file(tmp_path, capsys):
    target = tmp_path / SMALL
    shutil.copyfile(INSTALLED / SMALL, target)
    assert models.check(_entry(SMALL), tmp_path) is None
    data = bytearray(target.read_bytes())
    data[len(data) // 2] ^= 0x01
    target.write_bytes(data)
    assert models.check(_entry(SMALL), tmp_path).startswith("corrupt")

    assert main(["models", "--dir", str(tmp_path), "verify"]) == 1
    lines = capsys.readouterr().out.splitlines()
    assert any(str(target) in line and "corrupt" in line for line in lines)


def test_require_refuses_a_corrupt_model_with_an_install_hint(tmp_path):
    (tmp_path / SMALL).write_bytes(b"not a model")
    with pytest.raises(ModelError, match="appliance models install"):
        models.require(SMALL, tmp_path)


def test_require_accepts_a_custom_model_outside_the_manifest(tmp_path):
    custom = tmp_path / "my_wake_word.onnx"
    custom.write_bytes(b"\0")
    assert models.require("my_wake_word.onnx", tmp_path) == custom
    with pytest.raises(ModelError, match="not found"):
        models.require("absent.onnx", tmp_path)


def _one_entry_manifest(tmp_path: Path, sha256: str) -> Path:
    entry = _entry(SMALL)
    manifest = tmp_path / "manifest.toml"
    manifest.write_text(
        f'[[model]]\nfile = "{entry.file}"\nrole = "vad"\nlicense = "MIT"\n'
        f'package = "{entry.package}"\nversion = "{entry.version}"\npath = "{entry.path}"\n'
        f'sha256 = "{sha256}"\nsize = {entry.size}\n')
    return manifest


def test_install_fetches_from_the_registry_then_finds_it_present(tmp_path):
    manifest = _one_entry_manifest(tmp_path, _entry(SMALL).sha256)
    target_dir = tmp_path / "models"
    first = list(models.install(target_dir, manifest=manifest, say=lambda _: None))
    assert [r.status for r in first] == ["installed"]
    assert models.check(_entry(SMALL), target_dir) is None
    second = list(models.install(target_dir, manifest=manifest, say=lambda _: None))
    assert [r.status for r in second] == ["present"]


def test_install_refuses_a_file_whose_hash_differs_from_the_pin(tmp_path):
    manifest = _one_entry_manifest(tmp_path, "0" * 64)
    target_dir = tmp_path / "models"
    results = list(models.install(target_dir, manifest=manifest, say=lambda _: None))
    assert results[0].status == "failed" and "does not match" in results[0].reason
    assert list(target_dir.iterdir()) == []


def test_unreachable_optional_model_is_skipped_not_failed(tmp_path):
    manifest = tmp_path / "manifest.toml"
    manifest.write_text(
        '[[model]]\nfile = "vosk-x"\nrole = "asr"\nlicense = "Apache-2.0"\n'
        'url = "http://127.0.0.1:9/absent.zip"\narchive_path = "vosk-x/"\n'
        f'archive_sha256 = "{"0" * 64}"\noptional = true\n')
    results = list(models.install(tmp_path / "models", manifest=manifest, say=lambda _: None))
    assert results[0].status == "skipped" and "unreachable" in results[0].reason


def test_a_derived_model_without_its_source_fails_with_the_reason(tmp_path):
    entry = _entry("en_US-joe-medium.aligned.onnx")
    assert entry.derived_from == "en_US-joe-medium.onnx"
    manifest = tmp_path / "manifest.toml"
    manifest.write_text(
        f'[[model]]\nfile = "{entry.file}"\nrole = "tts"\nlicense = "MIT"\n'
        f'derived_from = "{entry.derived_from}"\ntransform = "{entry.transform}"\n'
        f'sha256 = "{entry.sha256}"\nsize = {entry.size}\n')
    results = list(models.install(tmp_path / "models", manifest=manifest, say=lambda _: None))
    assert results[0].status == "failed" and "en_US-joe-medium.onnx" in results[0].reason
