"""Row 0 of the accuracy matrix (the untouched pretrained model), computed once per suite.

Every strategy of a suite starts from the same pretrained weights and the same seeded
heads, so the row-0 evaluation of a (model, tasks, seed) is shared: it is stored in
the results directory under ``.cache/row0`` and reused by every run that matches.
"""

from __future__ import annotations

import json
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from benchmark.atomic_io import atomic_write_json
from benchmark.checkpoints import fingerprint
from benchmark.errors import UserError
from benchmark.notices import notice
from benchmark.typed_yaml import from_mapping
from benchmark.parallel import Parallel
from benchmark.records import OUT_FIX


@dataclass
class RowZero:
    """Accuracy on every task, perplexity and bits per byte of the pretrained model."""

    accuracy: list[float]
    perplexity: float | None
    bits_per_byte: float | None
    seconds: float


def row0_key(parts: dict[str, Any]) -> str:
    """A stable hash of everything the row-0 numbers depend on (the same hash as a run's fingerprint)."""
    return fingerprint(parts)


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
