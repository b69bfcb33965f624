"""``leaderboard validate``: recompute every record's metrics from its raw data and check its schema."""

from __future__ import annotations

import json
import math
from pathlib import Path

from benchmark.metrics import as_matrix, compute_metrics
from benchmark.records import SCHEMA_VERSION, RunRecord, record_files

TOLERANCE = 1e-9


def _is_number(value: object) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


def schema_problems(data: object) -> list[str]:
    """What is wrong with a record's structure (empty if nothing)."""
    if not isinstance(data, dict):
        return ["the file does not hold a JSON object"]
    if data.get("schema_version") != SCHEMA_VERSION:
        return [f"schema_version is {data.get('schema_version')!r}, expected {SCHEMA_VERSION}"]
    try:
        record = RunRecord.from_json(data)
    except (KeyError, TypeError, ValueError) as exc:
        return [f"fields do not match the record schema ({type(exc).__name__}: {exc})"]
    problems = []
    n = len(record.tasks) if isinstance(record.tasks, list) else -1
    matrix = record.accuracy_matrix
    if n < 1 or not isinstance(matrix, list) or len(matrix) != n + 1 or any(not isinstance(r, list) or len(r) != n for r in matrix):
        problems.append(f"accuracy_matrix must be {n + 1} rows of {n} values for {n} tasks")
    elif any(v is not None and not (_is_number(v) and 0 <= v <= 1) for row in matrix for v in row):
        problems.append("accuracy_matrix holds a value that is not an accuracy in [0, 1] or null")
    for name in ("perplexity", "bits_per_byte"):
        series = getattr(record, name)
        if not isinstance(series, list) or len(series) != n + 1 or any(v is not None and not _is_number(v) for v in series):
            problems.append(f"{name} must be {n + 1} numbers or nulls")
    if record.status not in ("finished", "failed"):
        problems.append(f"status is {record.status!r}, expected 'finished' or 'failed'")
    if not isinstance(record.metrics, dict):
        problems.append("metrics must be a mapping")
    return problems


def metric_problems(record: RunRecord) -> list[str]:
    """Stored metrics that disagree with the ones recomputed from the record's raw numbers."""
    if record.status != "finished":
        return []
    recomputed = compute_metrics(as_matrix(record.accuracy_matrix), record.perplexity, record.bits_per_byte)
    problems = []
    for name, value in sorted(recomputed.items()):
        stored = record.metrics.get(name)
        if value is None and stored is None:
            continue
        if value is None or stored is None or not math.isclose(stored, value, rel_tol=TOLERANCE, abs_tol=TOLERANCE):
            problems.append(f"metric {name!r} is stored as {stored!r} but recomputes to {value!r}")
    return problems


def validate_results(results_dir: str | Path) -> list[str]:
    """One line per problem found in the records of ``results_dir`` (empty: all valid)."""
    lines = []
    for path in record_files(results_dir):
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            lines.append(f"{path.name}: not readable JSON ({exc})")
            continue
        problems = schema_problems(data)
        if not problems:
            problems = metric_problems(RunRecord.from_json(data))
        lines.extend(f"{path.name}: {problem}" for problem in problems)
    return lines
