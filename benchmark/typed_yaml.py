"""Plain mappings (from YAML or flags) -> dataclasses, with one-sentence errors.

Checks every value against the dataclass annotations and reports unknown keys with
the closest valid one. Hand-written because the design card's dependency list has no
validation library and this needs only a few types (int, float, str, bool, Literal,
Optional, list, dict, nested dataclasses).
"""

from __future__ import annotations

import dataclasses
import difflib
import types
import typing
from pathlib import Path
from typing import Any, Literal

import yaml

from benchmark.errors import UserError


def type_name(tp: Any) -> str:
    """Human wording of a type annotation, for error messages."""
    origin = typing.get_origin(tp)
    if origin is Literal:
        return "one of " + ", ".join(repr(a) for a in typing.get_args(tp))
    if origin in (typing.Union, types.UnionType):
        return " or ".join(type_name(a) for a in typing.get_args(tp))
    if origin is list:
        return f"a list of {type_name(typing.get_args(tp)[0])}s"
    if origin is dict:
        return "a mapping"
    if dataclasses.is_dataclass(tp):
        return "a mapping"
    names = {int: "an integer", float: "a number", str: "a string", bool: "true or false", type(None): "null"}
    return names.get(tp, getattr(tp, "__name__", str(tp)))


def _fail(tp: Any, value: Any, path: str, source: str) -> UserError:
    return UserError(f"{source}: field {path!r} must be {type_name(tp)}, got {value!r}; correct that value")


def check_value(value: Any, tp: Any, path: str, source: str) -> Any:
    """Returns ``value`` converted to ``tp`` or raises a UserError naming ``path`` and ``source``."""
    origin = typing.get_origin(tp)
    if dataclasses.is_dataclass(tp):
        return from_mapping(tp, value, source=source, path=path)
    if origin in (typing.Union, types.UnionType):
        options = typing.get_args(tp)
        if value is None and type(None) in options:
            return None
        for option in options:
            if option is type(None):
                continue
            try:
                return check_value(value, option, path, source)
            except UserError:
                continue
        raise _fail(tp, value, path, source)
    if origin is Literal:
        if value in typing.get_args(tp):
            return value
        raise _fail(tp, value, path, source)
    if origin is list:
        (item,) = typing.get_args(tp)
        if isinstance(value, str) and not dataclasses.is_dataclass(item):
            value = [v.strip() for v in value.split(",") if v.strip()]
        elif isinstance(value, (int, float)) and not isinstance(value, bool):
            value = [value]
        if not isinstance(value, list):
            raise _fail(tp, value, path, source)
        return [check_value(v, item, f"{path}[{i}]", source) for i, v in enumerate(value)]
    if origin is dict:
        if not isinstance(value, dict):
            raise _fail(tp, value, path, source)
        return dict(value)
    if tp is Any:
        return value
    if tp is bool and isinstance(value, bool):
        return value
    if tp is int:
        if isinstance(value, int) and not isinstance(value, bool):
            return value
        if isinstance(value, str) and value.strip().lstrip("-").isdigit():
            return int(value)
    if tp is float:
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            return float(value)
        if isinstance(value, str):
            try:
                return float(value)
            except ValueError:
                pass
    if tp is str and isinstance(value, str):
        return value
    raise _fail(tp, value, path, source)


def from_mapping(cls: type, data: Any, *, source: str, path: str = "") -> Any:
    """Builds dataclass ``cls`` from a mapping, rejecting unknown keys, missing keys and wrong types.

    Args:
        cls: The dataclass to build.
        data: The mapping (from YAML, presets or flags).
        source: Where the mapping came from, for messages (a file name, "the command line").
        path: Dotted path of ``cls`` inside the top-level mapping ("" at the top).
    """
    where = path or "the top level"
    if not isinstance(data, dict):
        raise UserError(f"{source}: {where} must be a mapping of keys to values, got {data!r}; fix its structure")
    hints = typing.get_type_hints(cls)
    fields = {f.name: f for f in dataclasses.fields(cls) if f.init}
    prefix = f"{path}." if path else ""
    values: dict[str, Any] = {}
    for key, value in data.items():
        if key not in fields:
            close = difflib.get_close_matches(str(key), sorted(fields), n=1, cutoff=0.6)
            hint = f"did you mean {prefix + close[0]!r}?" if close else f"valid keys are {', '.join(sorted(fields))}"
            raise UserError(f"{source}: unknown key {prefix + str(key)!r}; {hint}")
        values[key] = check_value(value, hints[key], prefix + key, source)
    for name, f in fields.items():
        required = f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING
        if required and name not in values:
            raise UserError(f"{source}: required field {prefix + name!r} is missing; add it to {where}")
    return cls(**values)


def read_yaml_file(path: str | Path, *, what: str, missing_hint: str) -> Any:
    """Parses a YAML file, turning every way it can be unreadable into one UserError.

    Args:
        path: The file.
        what: What the file is, for messages ("config file", "scenario file").
        missing_hint: How to fix a path that does not exist.
    """
    p = Path(path)
    source = f"{what} {str(p)!r}"
    try:
        return yaml.safe_load(p.read_text(encoding="utf-8"))
    except (FileNotFoundError, IsADirectoryError) as exc:
        raise UserError(f"{source} does not exist; {missing_hint}") from exc
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        raise UserError(f"{source} is not valid YAML{where}; fix the syntax there") from exc
    except UnicodeDecodeError as exc:
        raise UserError(f"{source} is not UTF-8 text; save it as UTF-8") from exc
