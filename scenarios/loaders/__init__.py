"""Named loader functions: each reads one kind of source into a pandas DataFrame.

A loader is a keyword-only function ``loader(*, data_dir, **args) -> DataFrame``;
``args`` are the ``source.args`` of a scenario task. The frame holds the raw columns
the task names (text, label, optionally text pair) and, when the source has its own
train/test split, a ``split`` column with values ``train``/``test``.
"""

from __future__ import annotations

import inspect
import typing
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pandas as pd

from benchmark.core.errors import UserError
from benchmark.core.registry import Registry
from benchmark.core.typed_yaml import check_value

Loader = Callable[..., pd.DataFrame]

LOADERS: Registry[Loader] = Registry(
    "loader",
    where="a scenario's source.loader",
    builtin_modules=("scenarios.loaders.local_files", "scenarios.loaders.hub", "scenarios.loaders.packaged", "scenarios.loaders.cl_benchmark"),
    entry_point_group="forgetbench.loaders",
)
register_loader = LOADERS.register


def run_loader(name: str, args: dict[str, Any], *, data_dir: Path | None, where: str) -> pd.DataFrame:
    """Calls loader ``name`` with ``args``, reporting wrong arguments as a UserError about ``where``."""
    try:
        loader = LOADERS.get(name)
    except UserError as exc:
        raise UserError(f"{where}: {exc}") from exc
    accepted = [p for p in inspect.signature(loader).parameters if p != "data_dir"]
    unknown = sorted(set(args) - set(accepted))
    if unknown:
        raise UserError(f"{where}: loader {name!r} does not take argument(s) {unknown}; it accepts {accepted}")
    hints = typing.get_type_hints(loader)
    args = {k: check_value(v, hints.get(k, Any), f"source.args.{k}", where) for k, v in args.items()}
    frame = loader(data_dir=data_dir, **args)
    if not isinstance(frame, pd.DataFrame):
        raise TypeError(f"loader {name!r} returned {type(frame).__name__}, not a pandas DataFrame")
    return frame
