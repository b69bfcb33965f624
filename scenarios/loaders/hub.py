"""Loader ``hub``: a dataset from the Hugging Face Hub (or its local cache) via ``datasets``."""

from __future__ import annotations

import contextlib
from pathlib import Path

import pandas as pd

from benchmark.core.errors import UserError
from benchmark.core.hub import cache_only, hub_reachable
from scenarios.loaders import register_loader


@register_loader("hub")
def hub(
    *,
    data_dir: Path | None,
    dataset: str,
    config: str | None = None,
    splits: dict[str, str] | None = None,
    revision: str | None = None,
) -> pd.DataFrame:
    """Loads ``dataset`` (and ``config``) with ``datasets.load_dataset``; ``splits`` maps train/test to hub split names."""
    del data_dir  # hub sources do not read local files
    import datasets  # imported here: loading it costs ~1 s and most runs never touch the hub

    wanted = splits or {"train": "train", "test": "test"}
    online = hub_reachable()
    parts = []
    for split, hub_split in wanted.items():
        try:
            with contextlib.nullcontext() if online else cache_only():
                ds = datasets.load_dataset(dataset, config, split=hub_split, revision=revision)
        except Exception as exc:  # datasets raises many types for "not reachable" and "not found"
            reason = str(exc).strip().splitlines()[0][:200] if str(exc).strip() else type(exc).__name__
            offline = "" if online else " (the hub is unreachable from here and the dataset is not in the local cache)"
            raise UserError(
                f"hub dataset {dataset!r} (config {config!r}, split {hub_split!r}) could not be loaded{offline}: {reason}; "
                "check the id and your network, or point the scenario at local files with --data-dir"
            ) from exc
        if len(ds) == 0:  # the other split would otherwise be split into both, training on test examples
            raise UserError(f"hub dataset {dataset!r} (config {config!r}) has no examples in split {hub_split!r}; map {split!r} to another split in source.args.splits")
        parts.append(ds.to_pandas().assign(split=split))
    return pd.concat(parts, ignore_index=True)
