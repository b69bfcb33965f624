"""Named loader functions: each reads one kind of source into a pandas DataFrame.

A loader is a keyword-only function ``loader(*, data_dir, **args) -> DataFrame``;
``args`` are the ``source.args`` of a scenario task. The frame holds the raw columns
the task names (text, label, optionally text pair) and, when the source has its own
train/test split, a ``split`` column with values ``train``/``test``.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pandas as pd

from benchmark.core.errors import UserError
from benchmark.core.registry import Registry
from benchmark.core.keyword_arguments import checked_arguments, signature_of

Loader = Callable[..., pd.DataFrame]

LOADERS: Registry[Loader] = Registry(
    "loader",
    where="a scenario's source.loader",
    builtin_modules=("scenarios.loaders.local_files", "scenarios.loaders.hub", "scenarios.loaders.packaged", "scenarios.loaders.cl_benchmark",
                     "scenarios.loaders.trace", "scenarios.loaders.superni", "scenarios.loaders.packaged_free_text"),
    entry_point_group="forgetbench.loaders",
)
register_loader = LOADERS.register


def run_loader(name: str, args: dict[str, Any], *, data_dir: Path | None, where: str) -> pd.DataFrame:
    """Calls loader ``name`` with ``args``, reporting wrong arguments as a UserError about ``where``."""
    try:
        loader = LOADERS.get(name)
    except UserError as exc:
        raise UserError(f"{where}: {exc}") from exc
    accepted, hints = signature_of(loader, skip=("data_dir",))
    args = checked_arguments(args, accepted, hints, owner=f"loader {name!r}", field="source.args", source=where)
    frame = loader(data_dir=data_dir, **args)
    if not isinstance(frame, pd.DataFrame):
        raise TypeError(f"loader {name!r} returned {type(frame).__name__}, not a pandas DataFrame")
    return frame
