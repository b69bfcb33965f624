"""Checkpoints of a sharded run (``--sharding fsdp``): every process writes its own part, no process the whole model.

The sharded tensors (the weights training can have changed, and strategy state cut like
them: EWC's importance and centre) go through ``torch.distributed.checkpoint`` into a
folder ``<run_id>.shards-<k>`` beside the run's ``<run_id>.pt`` (``k``: tasks done).
Everything else (partial results, the RNG state, plain strategy state) is the ordinary
checkpoint file, written by the main process after every process has finished its
part, and it names the folder: writing that file is the commit. A process killed while
the parts are written leaves the previous file naming the previous, complete folder.
Strategy state is walked as nested dicts and lists; each sharded tensor in it becomes a
small description (shape, type, sharded dimension) in the file and a named tensor in the
folder, and is rebuilt from both when the run resumes.
"""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import torch

from benchmark.engine.parallel import Parallel

SHARD_MARK = "__sharded__"
KEEP = object()  # what a leaf function answers for a part it leaves to the walk


def shards_folder(path: Path, completed: int) -> Path:
    """The folder of the sharded part of ``path``'s checkpoint after ``completed`` tasks."""
    return path.with_name(f"{path.stem}.shards-{completed}")


def remove_shards(path: Path, keep: Path | None = None) -> None:
    """Deletes every shards folder of the checkpoint ``path`` except ``keep``."""
    for folder in path.parent.glob(f"{path.stem}.shards-*"):
        if folder != keep:
            shutil.rmtree(folder, ignore_errors=True)


def _replaced(value: Any, leaf: Callable[[Any, str], Any], key: str) -> Any:
    """``value`` walked as nested dicts, lists and tuples, each part ``leaf`` answers (not :data:`KEEP`) replaced."""
    found = leaf(value, key)
    if found is not KEEP:
        return found
    if isinstance(value, dict):
        return {k: _replaced(v, leaf, f"{key}/{k}") for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return type(value)(_replaced(v, leaf, f"{key}/{i}") for i, v in enumerate(value))
    return value


def _described(value: Any) -> bool:
    return isinstance(value, dict) and SHARD_MARK in value


def split_sharded(value: Any, tensors: dict[str, torch.Tensor]) -> Any:
    """``value`` with each sharded tensor replaced by its description; the tensors go into ``tensors`` by key."""
    from torch.distributed.tensor import DTensor, Shard

    def describe(part: Any, key: str) -> Any:
        if not isinstance(part, DTensor):
            return KEEP
        (placement,) = part.placements
        if not isinstance(placement, Shard):
            raise ValueError(f"strategy state {key} is a DTensor placed {placement}, not sharded along one dimension")
        tensors[key] = part
        return {SHARD_MARK: key, "shape": list(part.shape), "dtype": str(part.dtype).removeprefix("torch."), "dim": placement.dim}

    return _replaced(value, describe, "strategy")


def joined_sharded(value: Any, tensors: dict[str, torch.Tensor]) -> Any:
    """The inverse of :func:`split_sharded`: descriptions replaced by the tensors of their keys."""
    return _replaced(value, lambda part, _: tensors[part[SHARD_MARK]] if _described(part) else KEEP, "strategy")


def empty_sharded(value: Any, mesh: Any, into: dict[str, torch.Tensor]) -> None:
    """An empty sharded tensor for every description in ``value``, by key (what the saved parts are read into)."""
    from torch.distributed.tensor import Shard, empty

    def allocate(part: Any, _: str) -> Any:
        if not _described(part):
            return KEEP
        dtype = getattr(torch, part["dtype"])
        into[part[SHARD_MARK]] = empty(part["shape"], dtype=dtype, device_mesh=mesh, placements=[Shard(part["dim"])])
        return part

    _replaced(value, allocate, "strategy")


def save_parts(folder: Path, weights: dict[str, torch.Tensor], state: dict[str, torch.Tensor], parallel: Parallel) -> None:
    """Every process writes its parts of ``weights`` and the strategy's sharded ``state`` into ``folder``."""
    import torch.distributed.checkpoint as dcp

    if parallel.is_main:
        shutil.rmtree(folder, ignore_errors=True)  # a folder a killed process left half-written under this name
    parallel.barrier()
    dcp.save({"weights": dict(weights), "strategy": dict(state)}, checkpoint_id=str(folder))
    parallel.barrier()


def load_parts(folder: Path, weights: dict[str, torch.Tensor], state: dict[str, torch.Tensor]) -> None:
    """Reads every process's parts from ``folder`` into ``weights`` (the model's own parameters) and ``state``, in place."""
    import torch.distributed.checkpoint as dcp

    dcp.load({"weights": weights, "strategy": state}, checkpoint_id=str(folder))
