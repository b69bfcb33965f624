"""Run checkpoints: everything needed to continue a run after its last finished task.

One file per unfinished run, ``<out>/.checkpoints/<run_id>.pt``, rewritten atomically
after every task. It holds the partial results, the weights that training can have
changed (trainable parameters, heads, strategy-added modules; not the frozen
backbone), the strategy's accumulated state (Fisher, buffer, adapter sets), the torch
RNG state and the run's fingerprint. The optimizer starts fresh with every task, so
there is no optimizer state to carry. A sharded run (``--sharding fsdp``) keeps its
weights and sharded strategy state in a folder of per-process parts that the file names
(:mod:`benchmark.engine.sharded_checkpoints`).
"""

from __future__ import annotations

import io
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import torch

from benchmark.core.atomic_io import atomic_write_bytes
from benchmark.engine.sharded_checkpoints import remove_shards
from benchmark.results.records import OUT_FIX, TaskTiming

CHECKPOINT_FORMAT = 1


@dataclass
class RunState:
    """What a run has produced so far (the part of a record that grows task by task).

    ``values`` holds every measured series by name, one entry per row, as a record's
    ``measures`` does.
    """

    completed: int
    values: dict[str, list[Any]]
    timings: list[TaskTiming] = field(default_factory=list)
    trainable: int = 0
    seconds: float = 0.0
    trained_names: list[str] = field(default_factory=list)
    threads: int = 0  # torch threads of the run (0: a checkpoint from before this was stored)

    def to_plain(self) -> dict[str, Any]:
        """Plain data (what torch.save with weights_only=True can read back)."""
        return asdict(self)

    @classmethod
    def from_plain(cls, data: dict[str, Any]) -> RunState:
        """Reads :meth:`to_plain`'s data, also from checkpoints written before measures were named series."""
        values = dict(data)
        if "values" not in values:  # matrix / perplexity / bits_per_byte as separate fields
            values["values"] = {"accuracy": values.pop("matrix"), "perplexity": values.pop("perplexity"),
                                "bits_per_byte": values.pop("bits_per_byte")}
        values["timings"] = [TaskTiming(**t) for t in data["timings"]]
        return cls(**values)


@dataclass
class Checkpoint:
    """A loaded checkpoint."""

    fingerprint: str
    state: RunState
    weights: dict[str, torch.Tensor]
    strategy: dict[str, Any]
    rng: torch.Tensor
    shards: dict[str, Any] | None = None  # sharded run: {"folder": name beside the file, "weights": parameter names}


def checkpoint_path(results_dir: str | Path, run_id: str) -> Path:
    """Where the checkpoint of ``run_id`` lives."""
    return Path(results_dir) / ".checkpoints" / f"{run_id}.pt"


def save_checkpoint(
    path: Path, *, fingerprint_: str, state: RunState, weights: dict[str, torch.Tensor], strategy: dict[str, Any],
    shards: dict[str, Any] | None = None,
) -> None:
    """Writes the checkpoint atomically (a crash mid-write leaves the previous one intact); ``shards`` names a sharded run's parts."""
    payload = {
        "format": CHECKPOINT_FORMAT, "fingerprint": fingerprint_, "state": state.to_plain(),
        "weights": {k: v.detach().cpu() for k, v in weights.items()}, "strategy": strategy, "rng": torch.get_rng_state(),
    }
    if shards is not None:
        payload["shards"] = shards
    buffer = io.BytesIO()
    torch.save(payload, buffer)
    atomic_write_bytes(path, buffer.getvalue(), fix=OUT_FIX)


def load_checkpoint(path: Path) -> Checkpoint | None:
    """The checkpoint at ``path``, or None if there is none (or it cannot be read)."""
    if not path.is_file():
        return None
    try:
        payload = torch.load(path, map_location="cpu", weights_only=True)
    except Exception:  # noqa: BLE001 - any unreadable checkpoint (pickle, zip, EOF errors) only costs a restart of that run
        return None
    if payload.get("format") != CHECKPOINT_FORMAT:
        return None
    return Checkpoint(
        fingerprint=payload["fingerprint"], state=RunState.from_plain(payload["state"]),
        weights=payload["weights"], strategy=payload["strategy"], rng=payload["rng"], shards=payload.get("shards"),
    )


def remove_checkpoint(results_dir: str | Path, run_id: str) -> None:
    """Deletes the checkpoint of ``run_id`` (the file, then any folder of a sharded run's parts)."""
    path = checkpoint_path(results_dir, run_id)
    path.unlink(missing_ok=True)
    remove_shards(path)
