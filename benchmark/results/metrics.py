"""Continual-learning metrics as plain functions of one measured series (the accuracy matrix, perplexities, ...).

``R`` is a (T+1) x T array: ``R[i, j]`` is the accuracy on task j (0-based column)
after training on the first i tasks; row 0 is the untouched pretrained model. Cells
that were not evaluated are NaN. Paper indices are 1-based (R[i][j], i, j in 1..T);
here column j-1 holds paper task j. Every metric declares ``higher_is_better`` and its
input: the name of a series a measure stores in the record (``accuracy``,
``perplexity``, ``bits_per_byte``, or a third-party measure's). A metric with a
``label`` that is not one of the leaderboard's built-in columns gets a column of its
own wherever a record has a value for it. Golden tests pin each definition to a
hand-computed matrix.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from benchmark.core.registry import Registry
from benchmark.results.generations import run_outcomes
from benchmark.results.outcomes import SERIES as OUTCOMES, is_layered, outcome_table, reproduced_series


@dataclass(frozen=True)
class Metric:
    """A registered metric: a function, its input series, which direction is better, and how it is shown.

    Attributes:
        input: The series it reads: a (T+1) x T matrix for a per-task series, a T+1 vector for a per-row one
            (a (T+1) x L matrix where each row's value is a list, e.g. one value per layer).
            A tuple of names: the function takes one array per series, in that order.
        label: Its leaderboard header (None: the built-in columns decide whether it is shown).
        kind: How the leaderboard formats it: ``percent`` (x100), ``ratio``, ``count``.
    """

    name: str
    fn: Callable[..., float]
    higher_is_better: bool
    input: str | tuple[str, ...]
    description: str
    label: str | None = None
    kind: str = "ratio"


METRICS: Registry[Metric] = Registry(
    "metric", where="--metrics", builtin_modules=("benchmark.results.metrics", "benchmark.results.representation_metrics", "benchmark.results.outcome_metrics",
                     "benchmark.results.general_ability_metrics"), entry_point_group="forgetbench.metrics"
)


def register_metric(
    name: str, *, higher_is_better: bool, input: str | tuple[str, ...] = "accuracy", label: str | None = None, kind: str = "ratio",  # noqa: A002
) -> Callable[[Callable[..., float]], Callable[..., float]]:
    """Registers a metric function under ``name`` with its direction, input series and leaderboard display."""

    def decorate(fn: Callable[..., float]) -> Callable[..., float]:
        doc = (fn.__doc__ or "").strip().splitlines()[0] if fn.__doc__ else ""
        METRICS.add(name, Metric(name, fn, higher_is_better, input, doc, label, kind), description=doc)
        return fn

    return decorate


def as_matrix(R: Sequence[Sequence[float | None]] | np.ndarray) -> np.ndarray:
    """Converts a nested list with None for missing cells into a float array with NaN."""
    return np.array([[np.nan if v is None else float(v) for v in row] for row in R], dtype=float)


def _tasks(R: np.ndarray) -> int:
    return R.shape[1]


def _nan_if_short(R: np.ndarray) -> bool:
    return _tasks(R) < 2


@register_metric("acc", higher_is_better=True)
def average_accuracy(R: np.ndarray) -> float:
    """ACC: mean accuracy over all tasks after the last task (Lopez-Paz & Ranzato 2017)."""
    return float(np.mean(R[-1, :]))


@register_metric("learning_acc", higher_is_better=True)
def learning_accuracy(R: np.ndarray) -> float:
    """LA: mean accuracy on each task right after training on it, mean_j R[j][j]."""
    T = _tasks(R)
    return float(np.mean([R[j, j - 1] for j in range(1, T + 1)]))


@register_metric("bwt", higher_is_better=True)
def backward_transfer(R: np.ndarray) -> float:
    """BWT: 1/(T-1) sum_{j<T} (R[T][j] - R[j][j]) (Lopez-Paz & Ranzato 2017); negative = forgetting."""
    T = _tasks(R)
    if _nan_if_short(R):
        return float("nan")
    return float(sum(R[T, j - 1] - R[j, j - 1] for j in range(1, T)) / (T - 1))


@register_metric("fwt", higher_is_better=True)
def forward_transfer(R: np.ndarray) -> float:
    """FWT: 1/(T-1) sum_{j>=2} (R[j-1][j] - R[0][j]) (Lopez-Paz & Ranzato 2017)."""
    T = _tasks(R)
    if _nan_if_short(R):
        return float("nan")
    return float(sum(R[j - 1, j - 1] - R[0, j - 1] for j in range(2, T + 1)) / (T - 1))


@register_metric("forgetting", higher_is_better=False)
def forgetting(R: np.ndarray) -> float:
    """F: 1/(T-1) sum_{j<T} max_{j<=l<T} R[l][j] - R[T][j] (Chaudhry et al. 2018).

    The max runs over the rows after task j was learned (l >= j): Chaudhry et al. write
    l in 1..T-1, but in their class-incremental setting rows l < j are zero, so the two
    agree there, and here rows l < j hold pre-training (FWT) evaluations that must not
    count as knowledge that was later lost. Unevaluated cells are skipped.
    """
    T = _tasks(R)
    if _nan_if_short(R):
        return float("nan")
    learned = [R[j:T, j - 1] for j in range(1, T)]
    if any(np.isnan(column).all() for column in learned):
        return float("nan")  # e.g. the joint reference, which has no intermediate rows
    return float(sum(np.nanmax(column) - R[T, j] for j, column in enumerate(learned)) / (T - 1))


@register_metric("bwt_gem", higher_is_better=True)
def backward_transfer_gem(R: np.ndarray) -> float:
    """BWT as the GEM reference code computes it: the same sum divided by T, not T-1."""
    T = _tasks(R)
    return float(sum(R[T, j - 1] - R[j, j - 1] for j in range(1, T)) / T)


@register_metric("fwt_gem", higher_is_better=True)
def forward_transfer_gem(R: np.ndarray) -> float:
    """FWT as the GEM reference code computes it: the same sum divided by T, not T-1."""
    T = _tasks(R)
    return float(sum(R[j - 1, j - 1] - R[0, j - 1] for j in range(2, T + 1)) / T)


@register_metric("forgetting_first_last", higher_is_better=False)
def forgetting_first_last(R: np.ndarray) -> float:
    """Avalanche-style forgetting: mean_{j<T} (R[j][j] - R[T][j]), accuracy when learned minus final: exactly -BWT."""
    return 0.0 - backward_transfer(R)  # 0.0 - x: no -0.0 where BWT is 0


@register_metric("ppl_ratio", higher_is_better=False, input="perplexity")
def perplexity_ratio(ppl: np.ndarray) -> float:
    """Perplexity drift PPL_T / PPL_0 on the held-out general corpus (1.0 = unchanged)."""
    return float(ppl[-1] / ppl[0])


@register_metric("ppl_ratio_max", higher_is_better=False, input="perplexity")
def perplexity_ratio_max(ppl: np.ndarray) -> float:
    """Worst perplexity drift over the sequence, max_t PPL_t / PPL_0 (unmeasured steps skipped)."""
    later = ppl[1:][~np.isnan(ppl[1:])]
    return float(later.max() / ppl[0]) if len(later) else float("nan")


@register_metric("bits_per_byte", higher_is_better=False, input="bits_per_byte")
def final_bits_per_byte(bpb: np.ndarray) -> float:
    """Bits per UTF-8 byte of the general corpus after the last task (tokenizer-independent)."""
    return float(bpb[-1])


@register_metric("acc_per_byte", higher_is_better=True, input="accuracy_per_byte", label="ACC/byte", kind="percent")
def average_accuracy_per_byte(R: np.ndarray) -> float:
    """ACC of the text formulation's length-normalised rank classification (log-likelihood per byte of the answer)."""
    return float(np.mean(R[-1, :]))


@register_metric("invalid_outputs", higher_is_better=False, input="invalid_outputs", label="invalid", kind="percent")
def final_invalid_outputs(R: np.ndarray) -> float:
    """Greedy decoding: mean share of generated outputs after the last task that match no answer."""
    return float(np.mean(R[-1, :]))


def _is_list(value: Any) -> bool:
    return isinstance(value, (list, tuple))


def _cube(values: Sequence[Any]) -> np.ndarray:
    """A per-task series whose measured cells are lists (one value per layer): (rows, tasks, layers) with NaN where unmeasured."""
    rows = [row for row in values if _is_list(row)]
    tasks = max(len(row) for row in rows)
    depth = max(len(cell) for row in rows for cell in row if _is_list(cell))
    cube = np.full((len(values), tasks, depth), np.nan)
    for i, row in enumerate(values):
        for j, cell in enumerate(row if _is_list(row) else []):
            if _is_list(cell):
                cube[i, j, : len(cell)] = [np.nan if v is None else float(v) for v in cell]
    return cube


def series_array(values: Sequence[Any] | None) -> np.ndarray | None:
    """A stored series as floats with NaN for missing values: a matrix if its rows are lists, else a vector.

    A per-task series whose cells are lists (a value per layer) becomes a (rows, tasks, layers) array.
    """
    if isinstance(values, np.ndarray):
        return values.astype(float)
    if not values or all(v is None for v in values):
        return None
    if any(_is_list(cell) for row in values if _is_list(row) for cell in row):
        return _cube(values)
    if any(isinstance(v, (list, tuple)) for v in values):
        width = max(len(v) for v in values if isinstance(v, (list, tuple)))
        return as_matrix([v if isinstance(v, (list, tuple)) else [None] * width for v in values])
    return np.array([np.nan if v is None else float(v) for v in values], dtype=float)


def compute_metrics(series: Mapping[str, Sequence[Any] | None]) -> dict[str, float | None]:
    """Every registered metric on the series it reads (a record's ``measures``); a missing input or NaN gives None."""
    # The per-example outcomes are text cells: metrics that read them get the decoded table.
    # Layered outcomes (one cell per layer) feed no metric; validate checks them against their scores.
    # Only series a metric reads are converted (a free-text task's ``generations`` cells feed none).
    read = {n for entry in METRICS for n in (entry.obj.input if isinstance(entry.obj.input, tuple) else (entry.obj.input,))}
    inputs = {
        name: _input(name, values) for name, values in series.items() if name in read and not (reproduced_series(name) and is_layered(values))
    }
    if OUTCOMES in read:
        inputs[OUTCOMES] = run_outcomes(series)  # a free-text run's outcomes are its scored outputs
    return {entry.obj.name: _value(entry.obj, inputs) for entry in METRICS}


def _input(name: str, values: Sequence[Any] | None) -> Any:
    """What a metric reading series ``name`` gets: the decoded table of an outcome series, else an array."""
    return outcome_table(values) if reproduced_series(name) is not None else series_array(values)


def compute_metric(name: str, series: Mapping[str, Sequence[Any] | None]) -> float | None:
    """One registered metric on the series it reads (as :func:`compute_metrics` gives it)."""
    metric = METRICS.get(name)
    names = metric.input if isinstance(metric.input, tuple) else (metric.input,)
    inputs = {n: _input(n, series.get(n)) for n in names if n in series}
    if OUTCOMES in names:
        inputs[OUTCOMES] = run_outcomes(series)
    return _value(metric, inputs)


def _value(metric: Metric, inputs: Mapping[str, Any]) -> float | None:
    names = metric.input if isinstance(metric.input, tuple) else (metric.input,)
    data = [inputs.get(name) for name in names]
    if any(array is None for array in data):
        return None
    with np.errstate(all="ignore"):
        value = metric.fn(*data)
    return None if value is None or not np.isfinite(value) else float(value)
