"""``leaderboard validate``: recompute every record's metrics from its raw data and check its schema.

Where a record stores per-example outcomes, the accuracy matrix itself is recomputed
from them: a changed outcome or a changed accuracy cell is reported. Where it stores
free-text outputs, every output is scored again against the stored references.
"""

from __future__ import annotations

import math
from pathlib import Path

from benchmark.core.errors import UserError
from benchmark.results.metrics import compute_metrics
from benchmark.results.generations import generation_problems
from benchmark.results.outcomes import is_layered, layer_count, layer_slice, outcome_table, reproduced_series, table_problems
from benchmark.results.records import RunRecord, load_json, record_files

TOLERANCE = 1e-9


def metric_problems(record: RunRecord) -> list[str]:
    """Stored metrics that disagree with the ones recomputed from the record's raw numbers."""
    if record.status != "finished":
        return []
    try:
        recomputed = compute_metrics(record.measures)
    except ValueError as exc:  # an outcomes cell that does not decode (reported by outcome_problems too)
        return [f"metrics cannot be recomputed: {exc}"]
    problems = []
    for name, value in sorted(recomputed.items()):
        stored = record.metrics.get(name)
        if value is None and stored is None:
            continue
        if value is None or stored is None or not math.isclose(stored, value, rel_tol=TOLERANCE, abs_tol=TOLERANCE):
            problems.append(f"metric {name!r} is stored as {stored!r} but recomputes to {value!r}")
    return problems


def column_names(record: RunRecord, scores: str) -> list[str]:
    """The columns of a score series: the run's tasks, or the ``tasks`` its measure's own settings name (lm_eval's benchmarks)."""
    own = (record.config or {}).get(scores)
    return list(own["tasks"]) if isinstance(own, dict) and isinstance(own.get("tasks"), list) else list(record.tasks)


def outcome_checks(record: RunRecord) -> tuple[list[tuple[str, str, list | None, list | None, list[str]]], list[str]]:
    """(outcome series, score series, outcome values, score values, column names) per stored outcome table, and problems found on the way.

    A layered series (cells are lists over layers, ``layer_probe_outcomes``) gives one table per layer.
    """
    checks, problems = [], []
    for series, values in record.measures.items():
        scores = reproduced_series(series)
        if scores is None:
            continue
        stored = record.measures.get(scores)
        if not is_layered(values):
            checks.append((series, scores, values, stored, column_names(record, scores)))
            continue
        for layer in range(layer_count(values)):
            try:
                checks.append((f"{series} (layer {layer})", f"{scores} (layer {layer})", layer_slice(values, layer), layer_slice(stored, layer), record.tasks))
            except ValueError as exc:
                problems.append(f"measures.{series} or measures.{scores}: {exc}")
                break
    return checks, problems


def outcome_problems(record: RunRecord) -> list[str]:
    """Scores that disagree with the record's per-example outcomes (the accuracy matrix, the probes', lm-eval's accuracies)."""
    checks, problems = outcome_checks(record)
    for series, scores, values, stored, names in checks:
        try:
            table = outcome_table(values)
        except ValueError as exc:
            problems.append(f"measures.{series}: {exc}")
            continue
        if table is None:
            continue
        if table.shape != (len(record.tasks) + 1, len(names)):
            problems.append(f"measures.{series} must be {len(record.tasks) + 1} rows of {len(names)} cells")
            continue
        matrix = [row if isinstance(row, list) else [None] * len(names) for row in stored or []]
        problems.extend(table_problems(table, matrix, names, series=scores))
    return problems


def record_problems(record: RunRecord) -> list[str]:
    """Everything wrong with a parsed record: outcomes or free-text outputs that disagree with their scores, metrics that
    disagree with the raw numbers."""
    return outcome_problems(record) + generation_problems(record.measures, record.extra or {}, record.tasks) + metric_problems(record)


def validate_results(results_dir: str | Path) -> list[str]:
    """One line per problem found in the records of ``results_dir`` (empty: all valid).

    Raises:
        UserError: When the directory holds no record at all (most likely the wrong directory).
    """
    lines = []
    paths = record_files(results_dir)
    if not paths:
        raise UserError(f"results directory {str(results_dir)!r} holds no run records (*.json); pass the --out directory of a run to --results")
    for path in paths:
        try:
            data = load_json(path)
        except (OSError, ValueError) as exc:
            lines.append(f"{path.name}: not readable JSON ({exc})")
            continue
        try:
            record = RunRecord.from_json(data)  # the schema check is the parse
        except ValueError as exc:
            lines.append(f"{path.name}: {exc}")
            continue
        lines.extend(f"{path.name}: {problem}" for problem in record_problems(record))
    return lines
