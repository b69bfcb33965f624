"""Row 0 (every measure of the untouched pretrained model), computed once per suite.

Every strategy of a suite starts from the same pretrained weights and the same seeded
heads, so the row-0 measures of a (model, tasks, seed) are shared: they are stored in
the results directory under ``.cache/row0`` and reused by every run that matches.
"""

from __future__ import annotations

import json
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from benchmark.core.atomic_io import atomic_write_json
from benchmark.core.errors import UserError
from benchmark.core.notices import notice
from benchmark.core.typed_yaml import from_mapping
from benchmark.engine.parallel import Parallel
from benchmark.results.records import OUT_FIX


@dataclass
class RowZero:
    """Every measured series' row-0 value (a list over the tasks for a per-task series), and its cost."""

    values: dict[str, Any]
    seconds: float


def cached_row0(results_dir: str | Path, key: str, compute: Any, parallel: Parallel | None = None) -> tuple[RowZero, bool]:
    """Returns the cached row 0 for ``key``, or computes it with ``compute()`` and stores it.

    With several processes, all of them look at the cache before any may write it, so
    they agree on whether to compute (a collective evaluation); only the main one writes.

    Returns:
        The row and whether it came from the cache.
    """
    path = Path(results_dir) / ".cache" / "row0" / f"{key}.json"
    cached = path.is_file()
    if parallel is not None:
        parallel.barrier()
    if cached:
        try:
            return from_mapping(RowZero, json.loads(path.read_text(encoding="utf-8")), source=str(path), strict=True), True
        except (OSError, ValueError, RecursionError, UserError):
            if parallel is None or parallel.is_main:
                notice(f"the row-0 cache file {path} was damaged; row 0 is computed again and the file rewritten")
    start = time.perf_counter()
    row = compute()
    row.seconds = time.perf_counter() - start
    if parallel is None or parallel.is_main:
        atomic_write_json(path, asdict(row), fix=OUT_FIX)
    return row, False
