"""Typed, frozen settings and the one loader that validates them.

Each subsystem owns a frozen dataclass whose fields are declared with
`setting()`: a default, a one-line doc with the unit, and optional bounds or
choices. `load_section()` turns a TOML table into such a dataclass and rejects
an unknown key, a wrong type or an out-of-range value with one line naming the
file and the key. The same loader serves the kiosk config and bench scenarios,
so both fail the same way.
"""

from __future__ import annotations

import dataclasses
import math
import tomllib
import types
import typing
from collections.abc import Mapping
from pathlib import Path
from typing import Any, TypeVar

from appliance.errors import ConfigError

T = TypeVar("T")


def setting(
    default: Any,
    doc: str,
    *,
    min: float | None = None,  # noqa: A002 - reads naturally at the call site
    max: float | None = None,  # noqa: A002
    choices: tuple[Any, ...] | None = None,
) -> Any:
    """Declare a settings field with its documentation and bounds."""
    meta = {"doc": doc, "min": min, "max": max, "choices": choices}
    if isinstance(default, (list, dict)):
        raise TypeError("settings must be immutable; use a tuple")
    return dataclasses.field(default=default, metadata=meta)


def field_doc(cls: type, name: str) -> str:
    """The documentation string given to `setting()` for one field."""
    for item in dataclasses.fields(cls):
        if item.name == name:
            return str(item.metadata.get("doc", ""))
    raise KeyError(name)


def _type_name(tp: Any) -> str:
    origin = typing.get_origin(tp)
    if origin in (typing.Union, types.UnionType):
        return " or ".join(_type_name(arg) for arg in typing.get_args(tp))
    if origin is tuple:
        return f"a list of {_type_name(typing.get_args(tp)[0])}"
    if tp is type(None):
        return "nothing (omit the key)"
    return {bool: "a boolean", int: "an integer", float: "a number", str: "a string"}.get(
        tp, getattr(tp, "__name__", str(tp))
    )


def _coerce(value: Any, tp: Any) -> tuple[bool, Any]:
    """Return (ok, value) with ints accepted where a float is expected."""
    origin = typing.get_origin(tp)
    if origin in (typing.Union, types.UnionType):
        for arg in typing.get_args(tp):
            ok, coerced = _coerce(value, arg)
            if ok:
                return True, coerced
        return False, value
    if origin is tuple:
        if not isinstance(value, (list, tuple)):
            return False, value
        (item_type, *_rest) = typing.get_args(tp)
        items = []
        for item in value:
            ok, coerced = _coerce(item, item_type)
            if not ok:
                return False, value
            items.append(coerced)
        return True, tuple(items)
    if tp is type(None):
        return value is None, value
    if tp is bool:
        return isinstance(value, bool), value
    if tp is int:
        return isinstance(value, int) and not isinstance(value, bool), value
    if tp is float:
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            return True, float(value)
        return False, value
    if tp is str:
        return isinstance(value, str), value
    raise TypeError(f"unsupported settings type {tp!r}")


def _check_bounds(path: str, key: str, value: Any, meta: Mapping[str, Any]) -> None:
    choices = meta.get("choices")
    if choices is not None and value not in choices:
        raise ConfigError(path, key, f"expected one of {', '.join(map(repr, choices))}, got {value!r}")
    low, high = meta.get("min"), meta.get("max")
    numbers = value if isinstance(value, tuple) else (value,)
    for number in numbers:
        if not isinstance(number, (int, float)) or isinstance(number, bool):
            continue
        if not math.isfinite(number):  # every comparison with NaN is false: reject it here, once
            raise ConfigError(path, key, f"expected a finite number, got {number!r}")
        if low is not None and number < low or high is not None and number > high:
            span = f"between {low:g} and {high:g}" if low is not None and high is not None else (
                f"at least {low:g}" if low is not None else f"at most {high:g}"
            )
            raise ConfigError(path, key, f"expected a value {span}, got {number!r}")


def read_toml(path: Path) -> dict[str, Any]:
    """The TOML table in `path`; every way a file can be unreadable is one ConfigError.

    The kiosk config, scenarios and caller scripts all come through here, so a
    directory, a missing file, non-UTF-8 bytes or bad syntax read the same way.
    """
    try:
        return tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ConfigError(str(path), "<file>", "file does not exist") from None
    except IsADirectoryError:
        raise ConfigError(str(path), "<file>", "a TOML file, not a directory") from None
    except OSError as error:
        raise ConfigError(str(path), "<file>", f"a readable file ({error.strerror})") from None
    except UnicodeDecodeError as error:
        raise ConfigError(str(path), "<syntax>",
                          f"UTF-8 text ({error.reason} at byte {error.start})") from None
    except tomllib.TOMLDecodeError as error:
        raise ConfigError(str(path), "<syntax>", f"not valid TOML ({error})") from None


def load_section(cls: type[T], table: Any, path: str, prefix: str = "") -> T:
    """Build the dataclass `cls` from a TOML table, validating every key.

    `prefix` is the dotted name of the table ("audio."), so that errors name
    the key exactly as it is written in the file.
    """
    if not isinstance(table, Mapping):
        raise ConfigError(path, prefix.rstrip(".") or "<top>", "expected a table")
    hints = typing.get_type_hints(cls)
    known = {item.name: item for item in dataclasses.fields(cls)}
    values: dict[str, Any] = {}
    removed: Mapping[str, str] = getattr(cls, "REMOVED", {})
    for key, raw in table.items():
        dotted = f"{prefix}{key}"
        item = known.get(key)
        if item is None and key in removed:
            raise ConfigError(path, dotted, removed[key])
        if item is None:
            raise ConfigError(path, dotted, f"unknown key; expected one of {', '.join(sorted(known))}")
        tp = hints[key]
        if dataclasses.is_dataclass(tp):
            values[key] = load_section(tp, raw, path, f"{dotted}.")
            continue
        ok, value = _coerce(raw, tp)
        if not ok:
            raise ConfigError(path, dotted, f"expected {_type_name(tp)}, got {raw!r}")
        _check_bounds(path, dotted, value, item.metadata)
        values[key] = value
    return cls(**values)


def as_toml(instance: Any, prefix: str = "") -> str:
    """Render settings as TOML with each field's doc as a comment."""
    scalars: list[str] = []
    tables: list[str] = []
    for item in dataclasses.fields(instance):
        value = getattr(instance, item.name)
        if dataclasses.is_dataclass(value):
            tables.append(f"[{prefix}{item.name}]\n" + as_toml(value, f"{prefix}{item.name}."))
            continue
        doc = _describe(item.metadata)
        if doc:
            scalars.append(f"# {doc}")
        if value is None:
            scalars.append(f"# {item.name} =   (unset)")
        else:
            scalars.append(f"{item.name} = {_toml_value(value)}")
    return "\n".join(scalars + ([""] if scalars and tables else []) + tables) + "\n"


def _describe(meta: Mapping[str, Any]) -> str:
    """The field doc followed by its allowed values, for the example file."""
    doc = str(meta.get("doc") or "")
    if meta.get("choices"):
        doc += f" (one of {', '.join(_toml_value(c) for c in meta['choices'])})"
    low, high = meta.get("min"), meta.get("max")
    if low is not None and high is not None:
        doc += f" [{low:g} to {high:g}]"
    elif low is not None:
        doc += f" [at least {low:g}]"
    elif high is not None:
        doc += f" [at most {high:g}]"
    return doc


def _toml_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        escaped = value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")
        return f'"{escaped}"'
    if isinstance(value, tuple):
        return "[" + ", ".join(_toml_value(item) for item in value) + "]"
    return repr(value)
