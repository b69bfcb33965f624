"""Run records -> one row per (scenario, strategy): mean, std and n over seeds and orders."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from benchmark.records import RunRecord, read_record, record_files

# Leaderboard columns in display order: (record field path, label, display kind).
# Kinds: "percent" (accuracy-like, shown x100), "ratio" (3 decimals), "count", "seconds".
TABLE_METRICS: list[tuple[str, str, str]] = [
    ("metrics.acc", "ACC", "percent"),
    ("metrics.bwt", "BWT", "percent"),
    ("metrics.fwt", "FWT", "percent"),
    ("metrics.forgetting", "Forgetting", "percent"),
    ("metrics.learning_acc", "LA", "percent"),
    ("metrics.ppl_ratio", "PPL ratio", "ratio"),
    ("metrics.bits_per_byte", "bits/byte", "ratio"),
    ("parameters.trainable", "trainable params", "count"),
    ("total_seconds", "time (s)", "seconds"),
]


@dataclass
class LoadedRecords:
    """Records that parsed, and one message per file that did not."""

    records: list[RunRecord]
    problems: list[str]


def load_records(results_dir: str | Path) -> LoadedRecords:
    """Reads every record in ``results_dir``; a corrupt file is reported by name and skipped."""
    records: list[RunRecord] = []
    problems: list[str] = []
    for path in record_files(results_dir):
        try:
            records.append(read_record(path))
        except (OSError, ValueError, KeyError, TypeError) as exc:
            problems.append(f"{path.name}: skipped, not a valid run record ({type(exc).__name__}: {exc})")
    return LoadedRecords(records=records, problems=problems)


def _value(record: RunRecord, dotted: str) -> float:
    head, _, tail = dotted.partition(".")
    value = getattr(record, head)
    if tail:
        value = value.get(tail) if isinstance(value, dict) else None
    return float(value) if value is not None else np.nan


def records_frame(records: list[RunRecord]) -> pd.DataFrame:
    """One row per finished run with every table metric (NaN where a record lacks one)."""
    rows = []
    for record in records:
        if record.status != "finished":
            continue
        row = {"scenario": record.scenario, "strategy": record.strategy, "seed": record.seed, "order": record.order}
        row.update({path: _value(record, path) for path, _, _ in TABLE_METRICS})
        rows.append(row)
    return pd.DataFrame(rows, columns=["scenario", "strategy", "seed", "order"] + [p for p, _, _ in TABLE_METRICS])


def aggregate(records: list[RunRecord]) -> pd.DataFrame:
    """Mean, std (ddof=1; NaN for one run) and n per (scenario, strategy) for every table metric."""
    frame = records_frame(records)
    metric_columns = [p for p, _, _ in TABLE_METRICS]
    if frame.empty:
        return pd.DataFrame(columns=["scenario", "strategy", "n"] + [f"{c}:{s}" for c in metric_columns for s in ("mean", "std")])
    grouped = frame.groupby(["scenario", "strategy"], sort=True)
    out = grouped.size().rename("n").to_frame()
    for column in metric_columns:
        out[f"{column}:mean"] = grouped[column].mean()
        out[f"{column}:std"] = grouped[column].std(ddof=1)
    return out.reset_index()
