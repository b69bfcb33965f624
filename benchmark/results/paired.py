"""Paired statistics over test examples: a bootstrap of metric differences and McNemar's test.

Two strategies run with the same (scenario, order, seed) are scored on the same test
examples, so the difference of a metric between them can be resampled example by
example: each bootstrap replicate draws, for every task, the same examples (with
replacement) for both strategies and for every row, recomputes both accuracy matrices
from the per-example outcomes, and takes the metric difference. Example noise common
to both (hard examples) cancels, which is what gives the pairing its power. With
several matched runs (seeds, orders) each replicate also resamples the runs, and every
drawn run gets its own example resample (a two-stage bootstrap), so the interval
reflects both sources of noise. With a single run the interval covers example noise
only: it says how sure the comparison is on these test sets, not across seeds.

Resampling with replacement is drawn as multinomial counts per example, so a
replicate's accuracy is one weighted mean (a matrix product) rather than an index
gather; memory stays at examples x replicates per task.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
from scipy.stats import binomtest

from benchmark.results.metrics import as_matrix
from benchmark.results.outcomes import OutcomeTable, Outcomes

REPLICATES = 2000
BOOTSTRAP_SEED = 20240611  # fixed: the same records always give the same interval


@dataclass(frozen=True)
class MatchedRun:
    """One strategy's and the baseline's outcomes on the same test examples (same scenario, order and seed)."""

    strategy: OutcomeTable
    baseline: OutcomeTable


@dataclass(frozen=True)
class Interval:
    """The observed mean difference over matched runs and its 95% percentile bootstrap interval."""

    mean: float
    low: float
    high: float


def same_examples(a: OutcomeTable, b: OutcomeTable) -> bool:
    """Whether two runs' outcomes are over the same test examples (the same gold classes in every task column)."""
    if a.shape != b.shape:
        return False
    for j in range(a.shape[1]):
        golds = [cell.gold for cell in a.column(j) + b.column(j) if cell is not None]
        if any(len(g) != len(golds[0]) or not np.array_equal(g, golds[0]) for g in golds):
            return False
    return True


def _values_by_column(table: OutcomeTable) -> list[np.ndarray]:
    """Per task column: (rows, examples) float array of each example's score (right 1, wrong 0), NaN in rows not evaluated."""
    rows, tasks = table.shape
    out = []
    for j in range(tasks):
        n = next(len(cell.gold) for cell in table.column(j) if cell is not None)
        column = np.full((rows, n), np.nan)
        for i, cell in enumerate(table.column(j)):
            if cell is not None:
                column[i] = cell.values
        out.append(column)
    return out


def resampled_matrices(table: OutcomeTable, weights: Sequence[np.ndarray]) -> np.ndarray:
    """Accuracy matrices under example weights (one (replicates, examples) count array per task): (replicates, rows, tasks)."""
    columns = _values_by_column(table)
    replicates = weights[0].shape[0]
    out = np.empty((replicates, table.shape[0], table.shape[1]))
    for j, (column, w) in enumerate(zip(columns, weights)):
        measured = ~np.isnan(column[:, 0])
        values = np.full((replicates, column.shape[0]), np.nan)
        values[:, measured] = (w @ column[measured].T) / column.shape[1]
        out[:, :, j] = values
    return out


def example_weights(table: OutcomeTable, replicates: int, rng: np.random.Generator) -> list[np.ndarray]:
    """Bootstrap counts per task: each replicate draws as many examples as the task has, with replacement."""
    sizes = [next(len(c.gold) for c in table.column(j) if c is not None) for j in range(table.shape[1])]
    return [rng.multinomial(n, np.full(n, 1.0 / n), size=replicates) for n in sizes]


def metric_differences(run: MatchedRun, metric: Callable[[np.ndarray], float], replicates: int, rng: np.random.Generator) -> np.ndarray:
    """``metric(strategy) - metric(baseline)`` under ``replicates`` shared example resamples of one matched run."""
    weights = example_weights(run.baseline, replicates, rng)
    ours, theirs = resampled_matrices(run.strategy, weights), resampled_matrices(run.baseline, weights)
    with np.errstate(all="ignore"):
        return np.array([metric(a) - metric(b) for a, b in zip(ours, theirs)])


def paired_bootstrap(runs: Sequence[MatchedRun], metric: Callable[[np.ndarray], float], *, replicates: int = REPLICATES, seed: int = BOOTSTRAP_SEED) -> Interval:
    """The mean over matched runs of ``metric(strategy) - metric(baseline)``, with a two-stage 95% bootstrap interval.

    Args:
        runs: The matched runs (at least one).
        metric: A metric of an accuracy matrix (rows, tasks), NaN where not evaluated.
        replicates: Bootstrap replicates.
        seed: The resampling's seed (fixed by default: deterministic intervals).
    """
    rng = np.random.default_rng(seed)
    with np.errstate(all="ignore"):
        observed = float(np.mean([metric(as_matrix(r.strategy.accuracy_matrix())) - metric(as_matrix(r.baseline.accuracy_matrix())) for r in runs]))
    k = len(runs)
    per_run = np.stack([metric_differences(r, metric, replicates * k, rng) for r in runs])  # (runs, replicates * slots)
    low, high = two_stage_percentiles(per_run, replicates, rng)
    return Interval(observed, low, high)


def two_stage_percentiles(per_run: np.ndarray, replicates: int, rng: np.random.Generator) -> tuple[float, float]:
    """The 95% percentile interval of a two-stage bootstrap mean over runs.

    Args:
        per_run: (runs, replicates * runs) values: each run's statistic under that many example resamples.
        replicates: Bootstrap replicates; each draws ``runs`` runs with replacement, and every
            (replicate, slot) uses its own example resample of the run drawn into that slot.
        rng: The generator that draws the runs.

    Returns:
        (low, high), NaN when no replicate is defined.
    """
    k = per_run.shape[0]
    drawn = rng.integers(0, k, size=(replicates, k)) if k > 1 else np.zeros((replicates, 1), dtype=int)
    slots = np.arange(replicates * k).reshape(replicates, k)
    means = per_run[drawn, slots].mean(axis=1)
    means = means[~np.isnan(means)]
    if not len(means):
        return float("nan"), float("nan")
    low, high = np.percentile(means, [2.5, 97.5])
    return float(low), float(high)


@dataclass(frozen=True)
class McNemar:
    """McNemar's exact test on one task's final-row outcomes, pooled over matched runs.

    Attributes:
        only_baseline: Examples the baseline got right and the strategy wrong.
        only_strategy: Examples the strategy got right and the baseline wrong.
        p_value: Two-sided exact binomial p-value of the discordant counts (1 when there are none).
    """

    only_baseline: int
    only_strategy: int
    p_value: float


def mcnemar(cells: Sequence[tuple[Outcomes | None, Outcomes | None]]) -> McNemar | None:
    """McNemar's exact test on one task's final-row outcomes, pooled over matched runs.

    Args:
        cells: Per matched run, the (strategy, baseline) outcomes of the task after the last task
            (None where a run did not evaluate it there).

    Returns:
        The test, or None when no matched run evaluated the task on both sides.
    """
    only_baseline = only_strategy = 0
    seen = False
    for ours, theirs in cells:
        if ours is None or theirs is None:
            continue
        seen = True
        only_baseline += int((theirs.correct & ~ours.correct).sum())
        only_strategy += int((ours.correct & ~theirs.correct).sum())
    if not seen:
        return None
    discordant = only_baseline + only_strategy
    # The exact test: under the null each discordant example is a fair coin (scipy's binomial test, two-sided).
    p = binomtest(min(only_baseline, only_strategy), discordant, 0.5).pvalue if discordant else 1.0
    return McNemar(only_baseline, only_strategy, float(p))
