"""Run records: one JSON file per (scenario, order, strategy, seed), written atomically.

The leaderboard reads only these files. A record holds everything needed to recompute
its metrics (the raw accuracy matrix and perplexities) and to reproduce the run
(config, git hash, package versions, data hashes).
"""

from __future__ import annotations

import json
import re
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from benchmark.atomic_io import atomic_write_json

SCHEMA_VERSION = 1
RECORD_SUFFIX = ".json"


@dataclass
class TaskTiming:
    """Seconds spent on one task of a run."""

    task: str
    train_s: float
    eval_s: float
    ppl_s: float
    steps: int


@dataclass
class RunRecord:
    """Everything one run produced.

    ``accuracy_matrix[i][j]`` is the accuracy on the j-th task of the order after
    training on the first i tasks (row 0: the pretrained model); None = not evaluated.
    ``perplexity[i]`` and ``bits_per_byte[i]`` are measured at the same points.
    ``reference`` marks the reference rows every leaderboard shows (joint, frozen).
    """

    scenario: str
    scenario_version: int
    order: int
    tasks: list[str]
    strategy: str
    seed: int
    model: str
    setting: str
    accuracy_matrix: list[list[float | None]]
    perplexity: list[float | None]
    bits_per_byte: list[float | None]
    metrics: dict[str, float | None]
    parameters: dict[str, int]
    timings: list[TaskTiming]
    total_seconds: float
    data_hashes: dict[str, str]
    config: dict[str, Any]
    environment: dict[str, Any]
    status: str = "finished"
    error: str | None = None
    reference: bool = False
    source_hashes: dict[str, str] = field(default_factory=dict)
    fingerprint: str = ""
    schema_version: int = SCHEMA_VERSION
    created_at: str = ""
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def run_id(self) -> str:
        """The record's unique name within a results directory."""
        return run_id(self.scenario, self.order, self.strategy, self.seed)

    def to_json(self) -> dict[str, Any]:
        """Plain JSON-able data."""
        return asdict(self)

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> RunRecord:
        """Parses a record (raises KeyError/TypeError/ValueError on a malformed one)."""
        if data.get("schema_version") != SCHEMA_VERSION:
            raise ValueError(f"schema_version {data.get('schema_version')!r} is not {SCHEMA_VERSION}")
        values = dict(data)
        values["timings"] = [TaskTiming(**t) for t in data["timings"]]
        return cls(**values)


def _slug(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.+-]+", "-", text)


def run_id(scenario: str, order: int, strategy: str, seed: int) -> str:
    """``<scenario>__o<order>__<strategy>__s<seed>``, safe as a file name."""
    return f"{_slug(scenario)}__o{order}__{_slug(strategy)}__s{seed}"


def record_path(results_dir: str | Path, rid: str) -> Path:
    """Where the record of run ``rid`` lives."""
    return Path(results_dir) / f"{rid}{RECORD_SUFFIX}"


def write_record(results_dir: str | Path, record: RunRecord) -> Path:
    """Writes ``record`` atomically and returns its path."""
    path = record_path(results_dir, record.run_id)
    atomic_write_json(path, record.to_json())
    return path


def read_record(path: str | Path) -> RunRecord:
    """Reads one record file (raises ValueError/KeyError/TypeError/OSError on a bad one)."""
    return RunRecord.from_json(json.loads(Path(path).read_text(encoding="utf-8")))


def record_files(results_dir: str | Path) -> list[Path]:
    """Every record file directly in ``results_dir``, sorted by name (hidden files skipped)."""
    directory = Path(results_dir)
    if not directory.is_dir():
        return []
    return sorted(p for p in directory.glob(f"*{RECORD_SUFFIX}") if not p.name.startswith("."))
