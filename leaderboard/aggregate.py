"""Run records -> one row per (scenario, strategy): mean, std, n and optional bootstrap CI.

Values are read from named record fields (``metrics.acc``, ``parameters.trainable``),
never parsed out of strings; a record without a value contributes nothing to that
column, and a column with no values shows a dash.
"""

from __future__ import annotations

import difflib
from collections.abc import Callable
from dataclasses import dataclass
import numpy as np
import pandas as pd

from benchmark.core.config import DEFAULT_FORMULATION, RANDOM_SUFFIX
from benchmark.core.errors import UserError
from benchmark.results.metrics import METRICS
from benchmark.results.records import RunRecord

BOOTSTRAP_SAMPLES = 10_000
BOOTSTRAP_SEED = 0


@dataclass(frozen=True)
class Column:
    """One leaderboard column.

    Attributes:
        key: Short name for ``--sort`` and JSON output.
        path: Record field it reads (``metrics.acc``, ``parameters.trainable``, ``total_seconds``).
        label: Header text.
        kind: Display kind: percent (x100), ratio, count, megabytes or seconds.
        lower_is_better_default: Direction for columns that are not registered metrics.
    """

    key: str
    path: str
    label: str
    kind: str
    lower_is_better_default: bool = True

    @property
    def higher_is_better(self) -> bool:
        """Direction of the column, from the metric registry where it is a metric."""
        section, _, name = self.path.partition(".")
        if section == "metrics" and name in METRICS:
            return METRICS.get(name).higher_is_better
        return not self.lower_is_better_default


COLUMNS: list[Column] = [
    Column("acc", "metrics.acc", "ACC", "percent"),
    Column("bwt", "metrics.bwt", "BWT", "percent"),
    Column("fwt", "metrics.fwt", "FWT", "percent"),
    Column("forgetting", "metrics.forgetting", "Forgetting", "percent"),
    Column("learning_acc", "metrics.learning_acc", "LA", "percent"),
    Column("ppl_ratio", "metrics.ppl_ratio", "PPL ratio", "ratio"),
    Column("bits_per_byte", "metrics.bits_per_byte", "bits/byte", "ratio"),
    Column("trainable", "parameters.trainable", "trainable params", "count"),
    Column("extra_memory", "parameters.extra_bytes", "extra memory (MB)", "megabytes"),
    Column("seconds", "total_seconds", "time (s)", "seconds"),
]
COLUMN_KEYS = [c.key for c in COLUMNS]


def extra_metric_columns(has_values: Callable[[str], bool]) -> list[Column]:
    """Columns of registered metrics with a ``label`` beyond the built-in ones (a third-party measure's),
    for those ``has_values(name)`` accepts."""
    builtin = {c.path for c in COLUMNS}
    return [
        Column(m.name, f"metrics.{m.name}", m.label, m.kind)
        for m in (entry.obj for entry in METRICS)
        if m.label and f"metrics.{m.name}" not in builtin and m.name not in COLUMN_KEYS and has_values(m.name)
    ]


def record_columns(records: list[RunRecord]) -> list[Column]:
    """The built-in columns, plus one per labelled metric that some record has a value of."""
    return COLUMNS + extra_metric_columns(lambda name: any(r.metrics.get(name) is not None for r in records))


def table_columns(table: pd.DataFrame) -> list[Column]:
    """The columns an aggregated table shows: those :func:`select_columns` chose, else the built-in ones and those
    :func:`record_columns` added."""
    available = COLUMNS + extra_metric_columns(lambda name: f"{name}:mean" in table.columns)
    chosen = table.attrs.get("columns")
    if not chosen:
        return available
    by_key = {c.key: c for c in available}
    return [by_key[key] for key in chosen]


def select_columns(table: pd.DataFrame, keys: list[str]) -> pd.DataFrame:
    """``table`` showing only the columns ``keys`` name, in that order.

    Raises:
        UserError: On a key that is no column of this table (with the close matches).
    """
    available = [c.key for c in table_columns(table)]
    for key in keys:
        if key not in available:
            close = difflib.get_close_matches(key, available, n=2, cutoff=0.5)
            hint = f"did you mean {' or '.join(repr(c) for c in close)}? " if close else ""
            raise UserError(f"--columns names {key!r}, which is no column of this table; {hint}choose from {', '.join(available)}")
    chosen = table.copy()
    chosen.attrs["columns"] = list(keys)
    return chosen


def record_value(record: RunRecord, path: str) -> float:
    """The number at ``path`` in a record, or NaN if the record does not have it."""
    head, _, tail = path.partition(".")
    value = getattr(record, head, None)
    if tail:
        value = value.get(tail) if isinstance(value, dict) else None
    try:
        return float(value) if value is not None else np.nan
    except (TypeError, ValueError):
        return np.nan


def bootstrap_interval(values: np.ndarray, rng: np.random.Generator) -> tuple[float, float]:
    """95% percentile bootstrap interval of the mean (NaN for fewer than two values)."""
    if len(values) < 2:
        return np.nan, np.nan
    means = values[rng.integers(0, len(values), size=(BOOTSTRAP_SAMPLES, len(values)))].mean(axis=1)
    low, high = np.percentile(means, [2.5, 97.5])
    return float(low), float(high)


def scenario_labels(records: list[RunRecord], *, with_model: bool = True) -> list[str]:
    """Each record's scenario name, ``name@version`` where records of several versions of it are shown together, and
    `` · model`` where records of several models are (the model axis: its rows are grouped by model).

    Versions of a scenario differ in tasks or budget, so their runs are never averaged
    together; nor are runs of the two formulations (the text one is labelled), nor runs of different models
    (``with_model=False`` leaves the model out: the scale figure puts the models side by side).
    """
    versions: dict[str, set[int]] = {}
    for record in records:
        versions.setdefault(record.scenario, set()).add(record.scenario_version)
    several_models = with_model and len({r.model for r in records}) > 1
    return [
        (f"{r.scenario}@{r.scenario_version}" if len(versions[r.scenario]) > 1 else r.scenario) + posed_as(r)
        + (f" · {r.model}" if several_models else " · random weights" if r.model.endswith(RANDOM_SUFFIX) else "")
        for r in records
    ]


# How a run posed its tasks and stored its weights, by config field and default: runs that differ in these are
# never averaged together. A record's decode is the rule its formulation applied ("rank" for heads and text when
# none was named); a record without dtype predates --dtype and stored float32 weights.
POSING_DEFAULTS = {"formulation": DEFAULT_FORMULATION, "decode": "rank", "dtype": "fp32"}


def posed_as(record: RunRecord) -> str:
    """`` (text)``, `` (text, greedy)`` or `` (bf16)``: the posing settings a run changed from the defaults, nothing for the default."""
    config = record.config or {}
    changed = [str(config[key]) for key, default in POSING_DEFAULTS.items() if config.get(key, default) != default]
    return f" ({', '.join(changed)})" if changed else ""


def aggregate(records: list[RunRecord], *, ci: bool = False) -> pd.DataFrame:
    """One row per (scenario, strategy) with ``<key>:mean``, ``:std`` (ddof=1), ``:n`` and, with ``ci``, ``:low``/``:high``.

    Finished runs are aggregated over seeds and task orders; failed runs are only counted.
    """
    rng = np.random.default_rng(BOOTSTRAP_SEED)
    columns = record_columns(records)
    groups: dict[tuple[str, str], list[RunRecord]] = {}
    for record, label in zip(records, scenario_labels(records)):
        groups.setdefault((label, record.strategy), []).append(record)
    rows = []
    for (scenario, strategy), members in sorted(groups.items()):
        finished = [r for r in members if r.status == "finished"]
        row: dict[str, object] = {
            "scenario": scenario, "strategy": strategy, "n": len(finished), "failed": len(members) - len(finished),
            "reference": any(r.reference for r in members),
            "seeds": sorted({r.seed for r in finished}), "orders": sorted({r.order for r in finished}),
            "models": sorted({r.model for r in members}),
        }
        for column in columns:
            values = np.array([record_value(r, column.path) for r in finished], dtype=float)
            values = values[~np.isnan(values)]
            row[f"{column.key}:mean"] = float(values.mean()) if len(values) else np.nan
            row[f"{column.key}:std"] = float(values.std(ddof=1)) if len(values) > 1 else np.nan
            row[f"{column.key}:n"] = len(values)
            if ci:
                row[f"{column.key}:low"], row[f"{column.key}:high"] = bootstrap_interval(values, rng)
        rows.append(row)
    return pd.DataFrame(rows)


def sort_rows(table: pd.DataFrame, key: str | None) -> pd.DataFrame:
    """Best first by column ``key`` (default ACC) within each scenario; reference rows last."""
    if table.empty:
        return table
    column = next(c for c in table_columns(table) if c.key == (key or "acc"))
    ordered = table.assign(_value=table[f"{column.key}:mean"] * (-1 if column.higher_is_better else 1))
    ordered = ordered.sort_values(["scenario", "reference", "_value", "strategy"], na_position="last", kind="stable")
    return ordered.drop(columns="_value").reset_index(drop=True)
