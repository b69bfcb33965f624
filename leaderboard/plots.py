"""Figures from run records (PNG and SVG), drawn with matplotlib's object API.

- ``matrix_<run>``: each run's accuracy matrix as an annotated heatmap;
- ``tasks_<scenario>_o<order>``: accuracy on every task across the sequence, one panel per strategy;
- ``ppl_<scenario>_o<order>``: perplexity ratio PPL_t / PPL_0 after each task, all strategies;
- ``forgetting_vs_acc_<scenario>``: forgetting against final accuracy, one point per strategy;
- ``example_flips_<scenario>_o<order>``: where records store per-example outcomes, the
  examples that flip right-to-wrong and back at each task transition
  (:mod:`leaderboard.example_plots`);
- where records hold them, the figures of :mod:`leaderboard.representation_plots` (layer
  probes, CKA, language-model recovery);
- ``scale_<scenario>``: where several models ran it, forgetting and PPL ratio against
  parameter count (:mod:`leaderboard.scale_plots`).

Lines and points average the runs that share a task order (seeds); error bars are one std.
No pyplot: figures are drawn on their own Agg canvases, so nothing global changes.
"""

from __future__ import annotations

import math
from collections import defaultdict
from pathlib import Path

import numpy as np

from benchmark.results.metrics import as_matrix
from benchmark.results.records import RunRecord
from leaderboard.aggregate import scenario_labels
from leaderboard.drawing import file_slug, nan_mean, nan_std, new_figure, save_figure


def matrix_heatmap(record: RunRecord, out_dir: Path) -> list[Path]:
    """The run's accuracy matrix (in %), rows = after task t, columns = tasks; blank = not evaluated."""
    R = as_matrix(record.accuracy_matrix) * 100
    n = len(record.tasks)
    figure = new_figure(1.6 + 1.25 * n, 1.2 + 0.55 * (n + 1))
    axes = figure.add_subplot()
    image = axes.imshow(np.ma.masked_invalid(R), vmin=0, vmax=100, cmap="viridis", aspect="auto")
    for i in range(n + 1):
        for j in range(n):
            if not math.isnan(R[i, j]):
                axes.text(j, i, f"{R[i, j]:.1f}", ha="center", va="center", color="white" if R[i, j] < 60 else "black", fontsize=8)
    axes.set_xticks(range(n), record.tasks, rotation=30, ha="right", fontsize=8)
    axes.set_yticks(range(n + 1), ["pretrained"] + [f"after {t}" for t in record.tasks], fontsize=8)
    axes.set_title(f"{record.strategy} · {record.scenario} order {record.order} · seed {record.seed}", fontsize=9)
    figure.colorbar(image, ax=axes, label="accuracy (%)")
    return save_figure(figure, out_dir, f"matrix_{file_slug(record.run_id)}")


def by_sequence(records: list[RunRecord]) -> dict[tuple[str, int], dict[str, list[RunRecord]]]:
    """(scenario, order) -> strategy -> finished runs."""
    grouped: dict[tuple[str, int], dict[str, list[RunRecord]]] = defaultdict(lambda: defaultdict(list))
    for record, scenario in zip(records, scenario_labels(records)):
        if record.status == "finished":
            grouped[(scenario, record.order)][record.strategy].append(record)
    return grouped


def task_curves(scenario: str, order: int, runs: dict[str, list[RunRecord]], out_dir: Path) -> list[Path]:
    """Accuracy on each task after every step, one panel per strategy (mean over seeds)."""
    strategies = sorted(runs)
    columns = min(3, len(strategies))
    rows = math.ceil(len(strategies) / columns)
    figure = new_figure(4.2 * columns, 3.0 * rows)
    axes_grid = figure.subplots(rows, columns, squeeze=False, sharey=True)
    for index, strategy in enumerate(strategies):
        axes = axes_grid[index // columns][index % columns]
        matrices = np.stack([as_matrix(r.accuracy_matrix) for r in runs[strategy]]) * 100
        mean = nan_mean(matrices, axis=0)
        tasks = runs[strategy][0].tasks
        steps = np.arange(len(tasks) + 1)
        for j, task in enumerate(tasks):
            column = mean[:, j]
            seen = ~np.isnan(column)
            axes.plot(steps[seen], column[seen], marker="o", markersize=3, label=task)
        axes.set_title(strategy, fontsize=9)
        axes.set_xticks(steps, ["0"] + [str(t) for t in steps[1:]])
        axes.set_xlabel("after task")
        axes.grid(alpha=0.3)
    for index in range(len(strategies), rows * columns):
        axes_grid[index // columns][index % columns].set_visible(False)
    axes_grid[0][0].set_ylabel("accuracy (%)")
    axes_grid[0][0].legend(fontsize=7)
    figure.suptitle(f"{scenario} · order {order}: accuracy on each task", fontsize=10)
    return save_figure(figure, out_dir, f"tasks_{file_slug(scenario)}_o{order}")


def perplexity_curves(scenario: str, order: int, runs: dict[str, list[RunRecord]], out_dir: Path) -> list[Path]:
    """PPL_t / PPL_0 after each task, one line per strategy (mean ± std over seeds)."""
    figure = new_figure(6.0, 3.8)
    axes = figure.add_subplot()
    for strategy in sorted(runs):
        series = np.array([[np.nan if p is None else p for p in r.perplexity] for r in runs[strategy]], dtype=float)
        ratios = series / series[:, :1]
        steps = np.arange(ratios.shape[1])
        mean, std = nan_mean(ratios, axis=0), nan_std(ratios, axis=0)
        seen = ~np.isnan(mean)
        axes.errorbar(steps[seen], mean[seen], yerr=std[seen] if len(ratios) > 1 else None, marker="o", markersize=3, capsize=2, label=strategy)
    axes.axhline(1.0, color="grey", linewidth=0.8, linestyle="--")
    axes.xaxis.get_major_locator().set_params(integer=True)
    axes.set_xlabel("after task")
    axes.set_ylabel("perplexity ratio PPL_t / PPL_0")
    axes.set_title(f"{scenario} · order {order}: drift of the general-language perplexity", fontsize=10)
    axes.grid(alpha=0.3)
    axes.legend(fontsize=7)
    return save_figure(figure, out_dir, f"ppl_{file_slug(scenario)}_o{order}")


def forgetting_scatter(scenario: str, records: list[RunRecord], out_dir: Path) -> list[Path]:
    """Forgetting against ACC per strategy (mean ± std over runs); strategies without forgetting are left out."""
    figure = new_figure(5.5, 4.0)
    axes = figure.add_subplot()
    by_strategy: dict[str, list[RunRecord]] = defaultdict(list)
    for record, label in zip(records, scenario_labels(records)):
        if record.status == "finished" and label == scenario:
            by_strategy[record.strategy].append(record)
    for strategy, runs in sorted(by_strategy.items()):
        points = np.array([[r.metrics.get("acc"), r.metrics.get("forgetting")] for r in runs], dtype=float) * 100
        points = points[~np.isnan(points).any(axis=1)]
        if not len(points):
            continue
        mean, std = points.mean(axis=0), points.std(axis=0)
        axes.errorbar(mean[0], mean[1], xerr=std[0] if len(points) > 1 else None, yerr=std[1] if len(points) > 1 else None, marker="o", capsize=2, linestyle="none")
        axes.annotate(strategy, (mean[0], mean[1]), textcoords="offset points", xytext=(4, 4), fontsize=8)
    axes.set_xlabel("ACC (%) ↑")
    axes.set_ylabel("forgetting (%) ↓")
    axes.set_title(f"{scenario}: forgetting vs final accuracy", fontsize=10)
    axes.grid(alpha=0.3)
    return save_figure(figure, out_dir, f"forgetting_vs_acc_{file_slug(scenario)}")
