"""Plain mappings (from YAML or flags) -> dataclasses, with one-sentence errors.

Checks every value against the dataclass annotations and reports unknown keys with
the closest valid one. Hand-written because the design card's dependency list has no
validation library and this needs only a few types (int, float, str, bool, Literal,
Optional, list, dict, nested dataclasses). Numbers must be finite and fit in 64 bits
(a NaN learning rate would train a whole run before failing to be written), and a
YAML mapping that states a key twice is an error: PyYAML silently keeps the last one.

``strict`` checking (for run records, which the harness wrote itself) converts
nothing: a string is never read as a number or a comma-separated list.
"""

from __future__ import annotations

import dataclasses
import difflib
import math
import types
import typing
from pathlib import Path
from typing import Any, Literal

import yaml

from benchmark.core.errors import UserError

INT64_MAX = 2**63 - 1


class DuplicateKeyError(yaml.constructor.ConstructorError):
    """A YAML mapping states the same key twice; ``problem`` names the key and its first line."""


class UniqueKeyLoader(yaml.SafeLoader):
    """PyYAML's safe loader, refusing a mapping that states the same key twice."""

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict[Any, Any]:
        first_line: dict[Any, int] = {}
        for key_node, _ in node.value:
            if key_node.tag == "tag:yaml.org,2002:merge":
                continue  # keys merged in with << may be overridden on purpose
            key = self.construct_object(key_node, deep=True)
            try:
                if key in first_line:
                    raise DuplicateKeyError(
                        None, None, f"the key {key!r} appears twice (first at line {first_line[key]})", key_node.start_mark,
                    )
                first_line[key] = key_node.start_mark.line + 1
            except TypeError:  # an unhashable key: the base loader reports it
                continue
        return super().construct_mapping(node, deep=deep)


def load_yaml(text: str) -> Any:
    """Parses YAML text like ``yaml.safe_load``, but refusing duplicate keys."""
    return yaml.load(text, Loader=UniqueKeyLoader)  # noqa: S506 - a SafeLoader subclass


def type_name(tp: Any) -> str:
    """Human wording of a type annotation, for error messages."""
    origin = typing.get_origin(tp)
    if origin is Literal:
        return "one of " + ", ".join(repr(a) for a in typing.get_args(tp))
    if origin in (typing.Union, types.UnionType):
        return " or ".join(type_name(a) for a in typing.get_args(tp))
    if origin is list:
        item = typing.get_args(tp)[0]
        plurals = {int: "integers", float: "numbers", str: "strings", bool: "true/false values"}
        return f"a list of {plurals[item]}" if item in plurals else f"a list whose items are each {type_name(item)}"
    if origin is dict:
        return "a mapping"
    if dataclasses.is_dataclass(tp):
        return "a mapping"
    names = {int: "an integer", float: "a number", str: "a string", bool: "true or false", type(None): "null"}
    return names.get(tp, getattr(tp, "__name__", str(tp)))


def _fail(tp: Any, value: Any, path: str, source: str) -> UserError:
    return UserError(f"{source}: field {path!r} must be {type_name(tp)}, got {value!r}; correct that value")


class _OutOfRange(UserError):
    """A value of the right type that no field can take (NaN, inf, beyond 64 bits); unions re-raise it."""


def _non_finite(value: Any) -> bool:
    return isinstance(value, float) and not math.isfinite(value)


def _checked_number(value: Any, path: str, source: str) -> Any:
    """``value`` itself once it is known to be finite and to fit in 64 bits."""
    if _non_finite(value):
        raise _OutOfRange(f"{source}: field {path!r} must be a finite number, got {value}; give a finite value")
    if isinstance(value, int) and not isinstance(value, bool) and abs(value) > INT64_MAX:
        raise _OutOfRange(f"{source}: field {path!r} is {value}, which is too large (the limit is {INT64_MAX}); give a smaller value")
    return value


def _as_int(value: Any, strict: bool) -> int | None:
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    if not strict and isinstance(value, str) and value.strip().lstrip("-").isdigit():
        return int(value)
    return None


def _as_float(value: Any, strict: bool) -> float | None:
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return float(value)
    if not strict and isinstance(value, str):
        try:
            return float(value)
        except ValueError:
            return None
    return None


def _check_union(value: Any, tp: Any, path: str, source: str, strict: bool) -> Any:
    options = typing.get_args(tp)
    if value is None and type(None) in options:
        return None
    _checked_number(value, path, source)  # "must be a finite number" says more than "must be a number or null"
    for option in options:
        if option is type(None):
            continue
        try:
            return check_value(value, option, path, source, strict=strict)
        except _OutOfRange:
            raise
        except UserError:
            continue
    raise _fail(tp, value, path, source)


def _check_list(value: Any, tp: Any, path: str, source: str, strict: bool) -> list[Any]:
    (item,) = typing.get_args(tp)
    if not strict and isinstance(value, str) and not dataclasses.is_dataclass(item):
        value = [v.strip() for v in value.split(",") if v.strip()]
    elif not strict and isinstance(value, (int, float)) and not isinstance(value, bool):
        value = [value]
    if not isinstance(value, list):
        raise _fail(tp, value, path, source)
    return [check_value(v, item, f"{path}[{i}]", source, strict=strict) for i, v in enumerate(value)]


def _check_dict(value: Any, tp: Any, path: str, source: str, strict: bool) -> dict[Any, Any]:
    if not isinstance(value, dict):
        raise _fail(tp, value, path, source)
    args = typing.get_args(tp)
    if len(args) != 2 or args[1] is Any:
        return dict(value)
    return {k: check_value(v, args[1], f"{path}.{k}", source, strict=strict) for k, v in value.items()}


def check_value(value: Any, tp: Any, path: str, source: str, *, strict: bool = False) -> Any:
    """Returns ``value`` converted to ``tp`` or raises a UserError naming ``path`` and ``source``.

    Non-finite floats and integers beyond 64 bits are refused whatever the type (also
    under ``Any``). With ``strict``, nothing is converted (no string is read as a number).
    """
    origin = typing.get_origin(tp)
    if dataclasses.is_dataclass(tp):
        return from_mapping(tp, value, source=source, path=path, strict=strict)
    if origin in (typing.Union, types.UnionType):
        return _check_union(value, tp, path, source, strict)
    _checked_number(value, path, source)
    if origin is Literal:
        if value in typing.get_args(tp):
            return value
        raise _fail(tp, value, path, source)
    if origin is list:
        return _check_list(value, tp, path, source, strict)
    if origin is dict:
        return _check_dict(value, tp, path, source, strict)
    if tp is Any:
        return value
    if tp is bool and isinstance(value, bool):
        return value
    converted = _as_int(value, strict) if tp is int else _as_float(value, strict) if tp is float else None
    if converted is not None:
        return _checked_number(converted, path, source)
    if tp is str and isinstance(value, str):
        return value
    raise _fail(tp, value, path, source)


def from_mapping(cls: type, data: Any, *, source: str, path: str = "", strict: bool = False) -> Any:
    """Builds dataclass ``cls`` from a mapping, rejecting unknown keys, missing keys and wrong types.

    Args:
        cls: The dataclass to build.
        data: The mapping (from YAML, presets or flags).
        source: Where the mapping came from, for messages (a file name, "the command line").
        path: Dotted path of ``cls`` inside the top-level mapping ("" at the top).
        strict: Convert nothing (for data the harness wrote itself, such as run records).
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
        values[key] = check_value(value, hints[key], prefix + key, source, strict=strict)
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
    if p.is_dir():
        raise UserError(f"{source} is a directory, not a file; {missing_hint}")
    try:
        return load_yaml(p.read_text(encoding="utf-8"))
    except (FileNotFoundError, NotADirectoryError) as exc:
        raise UserError(f"{source} does not exist; {missing_hint}") from exc
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        detail = f" ({exc.problem})" if isinstance(exc, DuplicateKeyError) else ""
        raise UserError(f"{source} is not valid YAML{where}{detail}; fix it there") from exc
    except RecursionError as exc:
        raise UserError(f"{source} nests too deeply to be read; flatten its structure") from exc
    except UnicodeDecodeError as exc:
        raise UserError(f"{source} is not UTF-8 text; save it as UTF-8") from exc
