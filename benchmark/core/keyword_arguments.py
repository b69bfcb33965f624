"""Keyword arguments a user writes for a plug-in (a strategy, a loader, an Avalanche strategy), checked against what it takes.

One helper for every extension point, so that a misspelt argument is refused the same
way everywhere (one sentence naming it and what is accepted) and every value is
converted to the parameter's type hint exactly as the config file's own fields are.
"""

from __future__ import annotations

import inspect
import typing
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from benchmark.core.errors import UserError
from benchmark.core.typed_yaml import check_value


def signature_of(fn: Callable[..., Any], *, skip: Sequence[str] = ("self",)) -> tuple[list[str], dict[str, Any]]:
    """The keyword arguments ``fn`` takes (by name, ``skip`` left out) and their type hints."""
    accepted = [
        name for name, p in inspect.signature(fn).parameters.items()
        if name not in skip and p.kind in (p.KEYWORD_ONLY, p.POSITIONAL_OR_KEYWORD)
    ]
    return accepted, typing.get_type_hints(fn)


def checked_arguments(
    args: Mapping[str, Any], accepted: Sequence[str], hints: Mapping[str, Any], *, owner: str, field: str, source: str,
    convert: bool = True,
) -> dict[str, Any]:
    """``args`` with every value converted to its hint, after refusing a name ``owner`` does not take.

    Args:
        args: The user's keyword arguments.
        accepted: The names ``owner`` takes.
        hints: Type hints by name (a name without one takes any value).
        owner: What takes them, for the message (``strategy 'ewc'``, ``loader 'local_files'``).
        field: Where the user wrote them (``strategy_args.ewc``, ``source.args``).
        source: The file or flag they came from.
        convert: Whether to convert values to their hints (False: names only).

    Raises:
        UserError: On an argument ``owner`` does not take, or a value of the wrong type.
    """
    unknown = sorted(set(args) - set(accepted))
    if unknown:
        raise UserError(f"{owner} does not take argument(s) {unknown} (in {field} of {source}); it accepts {sorted(accepted) or 'no arguments'}")
    if not convert:
        return dict(args)
    return {name: check_value(value, hints.get(name, Any), f"{field}.{name}", source) for name, value in args.items()}
