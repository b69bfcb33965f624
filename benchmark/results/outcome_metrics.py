"""Example-level forgetting (Toneva et al. 2019): test examples that flip between correct and wrong from one row to the next.

A forgetting event is an example of an already-trained task that was answered right
before a task transition and wrong after it; a relearning event the reverse. At the
transition from row t to row t+1 (t >= 1: after task t, then after task t+1) the
already-trained tasks are the first t columns. Both metrics are the share of those
examples that flip, pooled over every transition with outcomes on both sides, so
they are comparable across scenarios of different test sizes. The accuracy matrix
sees only the net change of a cell; these show the churn beneath it (a cell can stay
at 70% while a fifth of its examples trade places).
"""

from __future__ import annotations

import numpy as np

from benchmark.results.metrics import register_metric
from benchmark.results.outcomes import SERIES, OutcomeTable


def transition_flips(table: OutcomeTable) -> list[tuple[int, int, int]]:
    """Per transition row t -> t+1 (t >= 1, in order): (forgetting events, relearning events, examples of trained tasks)."""
    rows, tasks = table.shape
    out = []
    for t in range(1, rows - 1):
        lost = regained = seen = 0
        for j in range(min(t, tasks)):
            before, after = table.cells[t][j], table.cells[t + 1][j]
            if before is None or after is None:
                continue
            lost += int((before.correct & ~after.correct).sum())
            regained += int((~before.correct & after.correct).sum())
            seen += len(before.gold)
        out.append((lost, regained, seen))
    return out


def _pooled_share(table: OutcomeTable, which: int) -> float:
    flips = transition_flips(table)
    seen = sum(f[2] for f in flips)
    return sum(f[which] for f in flips) / seen if seen else float("nan")


@register_metric("forget_events", higher_is_better=False, input=SERIES, label="forget events", kind="percent")
def forgetting_events(table: OutcomeTable) -> float:
    """Share of already-trained tasks' test examples that go from right to wrong at a task transition (pooled)."""
    return _pooled_share(table, 0)


@register_metric("relearn_events", higher_is_better=True, input=SERIES, label="relearn events", kind="percent")
def relearning_events(table: OutcomeTable) -> float:
    """Share of already-trained tasks' test examples that go from wrong to right at a task transition (pooled)."""
    return _pooled_share(table, 1)


def flips_by_transition(table: OutcomeTable) -> np.ndarray:
    """(transitions, 2) array of forgetting and relearning events per transition, as shares of the examples at stake."""
    flips = transition_flips(table)
    return np.array([[f[0] / f[2], f[1] / f[2]] if f[2] else [np.nan, np.nan] for f in flips], dtype=float).reshape(-1, 2)
