"""Example-level forgetting (Toneva et al. 2019) as a figure, from the per-example outcomes of run records.

``example_flips_<scenario>_o<order>``: at each task transition (after task t, then
after task t+1), the share of the already-trained tasks' test examples that went from
right to wrong (forgetting events) and from wrong to right (relearning events), one
line per strategy (mean over the seeds of that order). The accuracy matrix shows only
the net change; the two panels show the churn beneath it. Drawn only where some
record stores outcomes.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from benchmark.results.outcome_metrics import flips_by_transition
from benchmark.results.generations import run_outcomes
from benchmark.results.records import RunRecord
from leaderboard.drawing import file_slug, new_figure, save_figure, nan_mean


def _mean_flips(runs: list[RunRecord]) -> np.ndarray | None:
    """(transitions, 2) forgetting and relearning shares averaged over the runs that store outcomes."""
    arrays = []
    for record in runs:
        try:
            table = run_outcomes(record.measures)
        except ValueError:  # a damaged cell: validate reports it; the figure leaves the run out
            continue
        if table is not None:
            arrays.append(flips_by_transition(table))
    if not arrays or len({a.shape for a in arrays}) != 1 or not arrays[0].size:
        return None
    stacked = np.stack(arrays)
    if np.isnan(stacked).all():
        return None
    return nan_mean(stacked, axis=0)


def example_flips(scenario: str, order: int, runs: dict[str, list[RunRecord]], out_dir: Path) -> list[Path]:
    """Forgetting and relearning events per task transition, one line per strategy, two panels."""
    flips = {s: f for s, f in ((s, _mean_flips(r)) for s, r in sorted(runs.items())) if f is not None}
    if not flips:
        return []
    figure = new_figure(8.4, 3.4)
    panels = figure.subplots(1, 2, sharey=True)
    tasks = next(iter(runs.values()))[0].tasks
    for strategy, shares in flips.items():
        steps = np.arange(1, len(shares) + 1)
        for axes, column in zip(panels, (0, 1)):
            seen = ~np.isnan(shares[:, column])
            axes.plot(steps[seen], shares[seen, column] * 100, marker="o", markersize=3, label=strategy)
    labels = [f"{tasks[t - 1]} → {tasks[t]}" for t in range(1, len(next(iter(flips.values()))) + 1)]
    for axes, title in zip(panels, ("forgetting events (right → wrong)", "relearning events (wrong → right)")):
        axes.set_xticks(np.arange(1, len(labels) + 1), labels, rotation=20, ha="right", fontsize=7)
        axes.set_title(title, fontsize=9)
        axes.grid(alpha=0.3)
    panels[0].set_ylabel("% of trained tasks' test examples")
    panels[0].legend(fontsize=7)
    figure.suptitle(f"{scenario} · order {order}: examples that flip at each task transition", fontsize=10)
    return save_figure(figure, out_dir, f"example_flips_{file_slug(scenario)}_o{order}")
