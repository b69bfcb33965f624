"""Paired differences to a baseline strategy: is a strategy's advantage larger than the seed-to-seed noise?

Two strategies run on the same (scenario, order, seed) see the same splits, heads and
data order, so their difference on that run pair is the cleanest comparison there is.
For every strategy, metric and scenario this takes the mean of those paired
differences over all matched runs and a 95% percentile bootstrap interval of that mean
(the same resampling as the leaderboard's ``--ci``). An interval that excludes 0 is
marked: only then does the table back a claim that one strategy forgets or drifts
less than the other. With n matched runs the interval cannot be narrower than the
resampling allows (with 3 seeds it spans the smallest to the largest difference, so
it excludes 0 only when all three differences share a sign).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from tabulate import tabulate

from benchmark.core.errors import UserError
from benchmark.results.records import RunRecord
from leaderboard.aggregate import BOOTSTRAP_SEED, COLUMNS, Column, bootstrap_interval, record_value, scenario_labels
from leaderboard.formats import markdown_escape, number

COMPARED_KEYS = ("acc", "bwt", "forgetting", "learning_acc", "ppl_ratio")


@dataclass(frozen=True)
class PairedDifference:
    """Mean of ``strategy - baseline`` over matched runs, with its 95% bootstrap interval."""

    scenario: str
    strategy: str
    column: Column
    n: int
    mean: float
    low: float
    high: float

    @property
    def excludes_zero(self) -> bool:
        """True when the interval lies entirely above or entirely below 0."""
        return self.n > 1 and (self.low > 0 or self.high < 0)


def paired_differences(records: list[RunRecord], baseline: str) -> list[PairedDifference]:
    """Every (scenario, strategy, compared column) difference to ``baseline``, matched by order and seed.

    Raises:
        UserError: When no finished run of ``baseline`` is among the records.
    """
    finished = [(r, label) for r, label in zip(records, scenario_labels(records)) if r.status == "finished"]
    base = {(label, r.order, r.seed): r for r, label in finished if r.strategy == baseline}
    if not base:
        names = sorted({r.strategy for r, _ in finished})
        raise UserError(f"no finished run of --baseline {baseline!r} among the records; use one of {names}")
    rng = np.random.default_rng(BOOTSTRAP_SEED)
    columns = [c for c in COLUMNS if c.key in COMPARED_KEYS]
    out = []
    for scenario, strategy in sorted({(label, r.strategy) for r, label in finished if r.strategy != baseline}):
        pairs = [(r, base[(label, r.order, r.seed)]) for r, label in finished
                 if label == scenario and r.strategy == strategy and (label, r.order, r.seed) in base]
        for column in columns:
            diffs = np.array([record_value(a, column.path) - record_value(b, column.path) for a, b in pairs], dtype=float)
            diffs = diffs[~np.isnan(diffs)]
            if not len(diffs):
                continue
            low, high = bootstrap_interval(diffs, rng)
            out.append(PairedDifference(scenario, strategy, column, len(diffs), float(diffs.mean()), low, high))
    return out


def compare_markdown(differences: list[PairedDifference], baseline: str) -> str:
    """One row per (scenario, strategy): ``mean [low, high]`` per column, ``*`` where the interval excludes 0."""
    if not differences:
        return "(no strategy shares an order and seed with the baseline)"
    columns = [c for c in COLUMNS if c.key in COMPARED_KEYS and any(d.column == c for d in differences)]
    rows: dict[tuple[str, str], dict[str, str]] = {}
    for d in differences:
        text = f"{'+' if d.mean >= 0 else ''}{number(d.mean, d.column.kind)}"
        if d.n > 1:
            text += f" [{number(d.low, d.column.kind)}, {number(d.high, d.column.kind)}]" + (" *" if d.excludes_zero else "")
        rows.setdefault((d.scenario, d.strategy), {"n": str(d.n)})[d.column.key] = text
    unit = {"percent": " (points)", "ratio": ""}
    headers = ["scenario", f"strategy - {markdown_escape(baseline)}", "pairs"] + [f"Δ {c.label}{unit.get(c.kind, '')}" for c in columns]
    table = [[markdown_escape(s), markdown_escape(k), v["n"]] + [v.get(c.key, "-") for c in columns] for (s, k), v in sorted(rows.items())]
    return tabulate(table, headers=headers, tablefmt="github", disable_numparse=True)
