"""Run records: one JSON file per (scenario, order, strategy, seed), written atomically.

The leaderboard reads only these files. A record holds everything needed to recompute
its metrics (every measure's raw values: the accuracy matrix, perplexities, ...) and to
reproduce the run (config, git hash, package versions, data hashes).

Schema versions: 1 stored ``accuracy_matrix``, ``perplexity`` and ``bits_per_byte`` at
the top level; 2 stores every measured series under ``measures`` (those three among
them); 3 adds the per-example ``outcomes`` series (text cells), which an older reader
would refuse by its version rather than by a confusing type error; 4 bounds
``lm_recovery_fraction`` (:data:`REVISED_METRICS`: an older record's value is recomputed
from its raw curve when read). Version-1 files are read by moving the three into
``measures``; version-2 files read as they are (no outcomes: the paired comparison then
falls back to run-level differences).
"""

from __future__ import annotations

import json
import math
import re
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from benchmark.core.atomic_io import atomic_write_json
from benchmark.core.errors import UserError
from benchmark.core.printable import has_control_characters, printable
from benchmark.core.typed_yaml import from_mapping
from benchmark.results.metrics import compute_metric
from benchmark.results.outcomes import is_cell as is_outcomes_cell, reproduced_series
from benchmark.results.generations import SERIES as GENERATIONS, is_generations_cell

SCHEMA_VERSION = 6
READABLE_VERSIONS = (1, 2, 3, 4, 5, 6)
# Metrics whose definition changed with a schema version: older records have them recomputed from their raw values on read.
# 6: forgetting and relearning events also read a free-text run's scored outputs (its generations); version 5 meant to,
# but left them empty where a run stored an outcomes series of empty cells.
REVISED_METRICS = {4: ("lm_recovery_fraction",), 6: ("forget_events", "relearn_events")}
V1_SERIES = {"accuracy_matrix": "accuracy", "perplexity": "perplexity", "bits_per_byte": "bits_per_byte"}  # version-1 field: its series
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
    measures_s: dict[str, float] = field(default_factory=dict)  # seconds of every measure (eval_s: accuracy, ppl_s: perplexity)


@dataclass
class RunRecord:
    """Everything one run produced.

    ``measures`` holds every measured series by name, one entry per row (row 0: the
    pretrained model; row i: after training on the first i tasks): a per-task series
    (``accuracy``) holds a list over the order's tasks per row, a per-row series
    (``perplexity``, ``bits_per_byte``) one value per row; None = not measured. A value
    may itself be a list (one number per layer: ``cka_corpus`` rows, ``layer_probe`` cells;
    one outcomes cell per layer: ``layer_probe_outcomes``).
    ``outcomes`` (records made since per-example outcomes were stored) holds, beside each
    accuracy cell, which test examples were right, as text (:mod:`benchmark.results.outcomes`).
    ``accuracy_matrix[i][j]``, ``perplexity[i]`` and ``bits_per_byte[i]`` read them.
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
    measures: dict[str, list[float | list[float | str | list[float | str | None] | None] | None]]
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
    def accuracy_matrix(self) -> list[list[float | None]]:
        """``accuracy_matrix[i][j]``: accuracy on task j after training on the first i tasks (None: not evaluated)."""
        return self.measures["accuracy"]

    @property
    def perplexity(self) -> list[float | None]:
        """General-corpus perplexity per row (None where not measured, or without a corpus)."""
        return self.measures.get("perplexity") or [None] * (len(self.tasks) + 1)

    @property
    def bits_per_byte(self) -> list[float | None]:
        """General-corpus bits per byte per row (None for encoders, where not measured, or without a corpus)."""
        return self.measures.get("bits_per_byte") or [None] * (len(self.tasks) + 1)

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
        version = data.get("schema_version")
        if type(version) is not int or version not in READABLE_VERSIONS:
            raise ValueError(f"schema_version {version!r} is not one of {list(READABLE_VERSIONS)}")
        if version == 1:
            data = upgraded_from_v1(data)
        try:
            record = from_mapping(cls, data, source="the record", strict=True)
        except UserError as exc:
            raise ValueError(str(exc)) from exc
        problems = structure_problems(record)
        if problems:
            raise ValueError("; ".join(problems))
        revise_metrics(record, version)
        return record


def revise_metrics(record: RunRecord, version: int) -> None:
    """Recomputes, from the record's raw values, the metrics whose definition changed after schema ``version``."""
    for since, names in REVISED_METRICS.items():
        if version < since and record.status == "finished":
            for name in names:
                if name in record.metrics:
                    record.metrics[name] = compute_metric(name, record.measures)


def upgraded_from_v1(data: dict[str, Any]) -> dict[str, Any]:
    """A version-1 record's data in the version-2 layout (its three series moved under ``measures``)."""
    upgraded = {k: v for k, v in data.items() if k not in V1_SERIES}
    upgraded["measures"] = {series: data.get(field_name) for field_name, series in V1_SERIES.items()}
    upgraded["schema_version"] = SCHEMA_VERSION
    return upgraded


def structure_problems(record: RunRecord) -> list[str]:
    """What is inconsistent in a well-typed record: the series' shapes, accuracies, status."""
    problems = []
    n = len(record.tasks)
    matrix = record.measures.get("accuracy")
    if not isinstance(matrix, list):
        problems.append("measures.accuracy (the accuracy matrix) is missing")
    elif n < 1 or len(matrix) != n + 1 or any(not isinstance(row, list) or len(row) != n for row in matrix):
        problems.append(f"accuracy_matrix must be {n + 1} rows of {n} values for {n} tasks")
    elif any(not (v is None or (isinstance(v, (int, float)) and 0 <= v <= 1)) for row in matrix for v in row):
        problems.append("accuracy_matrix holds a value that is not an accuracy in [0, 1] or null")
    named = {"scenario": record.scenario, "strategy": record.strategy, "model": record.model, "setting": record.setting,
             **{f"tasks[{i}]": task for i, task in enumerate(record.tasks)}}
    problems.extend(f"field {field_name!r} holds a control character ('{printable(value)}'), which no run writes"
                    for field_name, value in named.items() if has_control_characters(value))
    for name, values in record.measures.items():
        if name != "accuracy":
            problems.extend(series_problems(name, values, n))
    if record.status not in ("finished", "failed"):
        problems.append(f"status is {record.status!r}, expected 'finished' or 'failed'")
    if not math.isfinite(record.total_seconds) or record.total_seconds < 0:
        problems.append(f"total_seconds is {record.total_seconds!r}, expected a duration in seconds")
    return problems


def series_problems(name: str, values: list[Any], n: int) -> list[str]:
    """What is wrong with one stored series: a value per row, each a number or null, or a list over the tasks."""
    if len(values) != n + 1:
        return [f"{name} must be {n + 1} numbers or nulls (one per row)"]
    lists = [v for v in values if isinstance(v, list)]
    # Rows that are lists are a per-task series' (n values) or a per-row series' lists over layers: one width either way.
    widths = {len(v) for v in lists}
    if lists and (len(lists) + values.count(None) != len(values) or len(widths) != 1):
        return [f"measures.{name} mixes rows of different widths or rows with single values"]
    if any(isinstance(c, list) for v in lists for c in v) and widths != {n}:
        return [f"measures.{name} has cells that are lists, so its rows must hold {n} cells (one per task)"]
    cells = [c for v in values for c in (v if isinstance(v, list) else [v])]
    cells = [x for c in cells for x in (c if isinstance(c, list) else [c])]  # a cell may be a list over layers
    if reproduced_series(name) is not None:
        return [] if all(c is None or is_outcomes_cell(c) for c in cells) else [f"measures.{name} holds a cell that is not an outcomes cell or null"]
    if name == GENERATIONS:
        return [] if all(c is None or is_generations_cell(c) for c in cells) else [f"measures.{name} holds a cell that is not a generations cell or null"]
    if any(not (c is None or (isinstance(c, (int, float)) and not isinstance(c, bool))) for c in cells):
        return [f"measures.{name} holds a value that is not a number or null"]
    return []


def slug(text: str) -> str:
    """``text`` safe as a file name: every run of other characters becomes one dash."""
    return re.sub(r"[^A-Za-z0-9_.+-]+", "-", text)


def run_id(scenario: str, order: int, strategy: str, seed: int) -> str:
    """``<scenario>__o<order>__<strategy>__s<seed>``, safe as a file name."""
    return f"{slug(scenario)}__o{order}__{slug(strategy)}__s{seed}"


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
    """Every record file in ``results_dir`` and in its model folders (``<out>/<model>/``: the model axis), sorted by path.

    Hidden files and folders (caches, checkpoints) are skipped.
    """
    directory = Path(results_dir)
    if not directory.is_dir():
        return []
    folders = [directory] + sorted(p for p in directory.iterdir() if p.is_dir() and not p.name.startswith("."))
    return [p for folder in folders for p in sorted(folder.glob(f"*{RECORD_SUFFIX}")) if not p.name.startswith(".")]
