"""Run records: one JSON file per (scenario, order, strategy, seed), written atomically.

The leaderboard reads only these files. A record holds everything needed to recompute
its metrics (the raw accuracy matrix and perplexities) and to reproduce the run
(config, git hash, package versions, data hashes).
"""

from __future__ import annotations

import json
import math
import re
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from benchmark.atomic_io import atomic_write_json
from benchmark.errors import UserError
from benchmark.typed_yaml import from_mapping

SCHEMA_VERSION = 1
RECORD_SUFFIX = ".json"
OUT_FIX = "free space there or pass another --out"
MAX_RUN_ID_LENGTH = 200  # + ".json" and an atomic write's temporary suffix stays under the OS's 255-byte names


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
    def from_json(cls, data: Any) -> RunRecord:
        """Parses a record, checking every field's type strictly and the matrix's shape.

        Raises:
            ValueError: On anything that is not a well-formed record of this schema.
        """
        if not isinstance(data, dict):
            raise ValueError(f"the file holds {type(data).__name__}, not a JSON object")
        if data.get("schema_version") != SCHEMA_VERSION:
            raise ValueError(f"schema_version {data.get('schema_version')!r} is not {SCHEMA_VERSION}")
        try:
            record = from_mapping(cls, data, source="the record", strict=True)
        except UserError as exc:
            raise ValueError(str(exc)) from exc
        problems = structure_problems(record)
        if problems:
            raise ValueError("; ".join(problems))
        return record


def structure_problems(record: RunRecord) -> list[str]:
    """What is inconsistent in a well-typed record: the matrix and series shapes, accuracies, status."""
    problems = []
    n = len(record.tasks)
    matrix = record.accuracy_matrix
    if n < 1 or len(matrix) != n + 1 or any(len(row) != n for row in matrix):
        problems.append(f"accuracy_matrix must be {n + 1} rows of {n} values for {n} tasks")
    elif any(v is not None and not 0 <= v <= 1 for row in matrix for v in row):
        problems.append("accuracy_matrix holds a value that is not an accuracy in [0, 1] or null")
    for name in ("perplexity", "bits_per_byte"):
        if len(getattr(record, name)) != n + 1:
            problems.append(f"{name} must be {n + 1} numbers or nulls")
    if record.status not in ("finished", "failed"):
        problems.append(f"status is {record.status!r}, expected 'finished' or 'failed'")
    if not math.isfinite(record.total_seconds) or record.total_seconds < 0:
        problems.append(f"total_seconds is {record.total_seconds!r}, expected a duration in seconds")
    return problems


def _slug(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.+-]+", "-", text)


def run_id(scenario: str, order: int, strategy: str, seed: int) -> str:
    """``<scenario>__o<order>__<strategy>__s<seed>``, safe as a file name."""
    return f"{_slug(scenario)}__o{order}__{_slug(strategy)}__s{seed}"


def check_run_id_length(rid: str) -> None:
    """Refuses, before any work, a run whose record and checkpoint names would be too long for the OS."""
    if len(rid.encode("utf-8")) > MAX_RUN_ID_LENGTH:
        raise UserError(
            f"run id {rid[:40]!r}... is {len(rid)} characters, more than the {MAX_RUN_ID_LENGTH} its file names allow; "
            "shorten the scenario or strategy name"
        )


def record_path(results_dir: str | Path, rid: str) -> Path:
    """Where the record of run ``rid`` lives."""
    return Path(results_dir) / f"{rid}{RECORD_SUFFIX}"


def write_record(results_dir: str | Path, record: RunRecord) -> Path:
    """Writes ``record`` atomically and returns its path."""
    path = record_path(results_dir, record.run_id)
    atomic_write_json(path, record.to_json(), fix=OUT_FIX)
    return path


def load_json(path: str | Path) -> Any:
    """The JSON in ``path`` (raises OSError, or ValueError for text that is not JSON or nests too deeply)."""
    try:
        return json.loads(Path(path).read_text(encoding="utf-8"))
    except RecursionError as exc:
        raise ValueError("the JSON nests too deeply to be a run record") from exc


def read_record(path: str | Path) -> RunRecord:
    """Reads one record file (raises ValueError or OSError on a bad one)."""
    return RunRecord.from_json(load_json(path))


def record_files(results_dir: str | Path) -> list[Path]:
    """Every record file directly in ``results_dir``, sorted by name (hidden files skipped)."""
    directory = Path(results_dir)
    if not directory.is_dir():
        return []
    return sorted(p for p in directory.glob(f"*{RECORD_SUFFIX}") if not p.name.startswith("."))
