"""Figures of why a model forgot, from the ``layer_probe``, ``cka`` and ``lm_recovery`` series of run records.

- ``layer_probe_<scenario>_o<order>``: probe accuracy per layer (mean over tasks) before
  training and after the last task, one panel per strategy (Merchant et al. 2020's view);
- ``cka_<scenario>_o<order>``: linear CKA with the pretrained model, layer x row, one
  heatmap per strategy and input set (corpus tokens, task texts: the mean over the tasks
  measured at each row);
- ``recovery_vs_forgetting_<scenario>``: the language-model recovery curves after the
  last task, and each run's steps until perplexity is within 5% of row 0's against its
  task forgetting.

Values average the runs that share a task order (seeds). A figure is drawn only where
some record holds its series.
"""

from __future__ import annotations

from collections import defaultdict
from pathlib import Path

import numpy as np

from benchmark.results.metrics import series_array
from benchmark.results.representation_metrics import RECOVERED_WITHIN, RECOVERY_CHECKPOINTS
from benchmark.results.records import RunRecord
from leaderboard.aggregate import scenario_labels
from leaderboard.drawing import file_slug, new_figure, save_figure, nan_mean

_NOT_WITHIN = len(RECOVERY_CHECKPOINTS)  # the y position of runs not within 5% in the budget


def _mean_series(runs: list[RunRecord], series: str) -> np.ndarray | None:
    arrays = [a for a in (series_array(r.measures.get(series)) for r in runs) if a is not None]
    if not arrays or len({a.shape for a in arrays}) != 1:
        return None
    return nan_mean(np.stack(arrays), axis=0)


def _row_by_layer(values: np.ndarray) -> np.ndarray:
    """A (rows, layers) grid: per-task cells (rows, tasks, layers) averaged over the tasks measured at each row."""
    return nan_mean(values, axis=1) if values.ndim == 3 else values


def layer_probe_panels(scenario: str, order: int, runs: dict[str, list[RunRecord]], out_dir: Path) -> list[Path]:
    """Per-layer probe accuracy (mean over tasks) at row 0 and after the last task, a panel per strategy."""
    cubes = {s: c for s, c in ((s, _mean_series(r, "layer_probe")) for s, r in sorted(runs.items())) if c is not None}
    if not cubes:
        return []
    figure = new_figure(2.6 * len(cubes) + 0.6, 3.0)
    panels = figure.subplots(1, len(cubes), sharey=True, squeeze=False)[0]
    for axes, (strategy, cube) in zip(panels, cubes.items()):
        before, after = nan_mean(cube[0], axis=0) * 100, nan_mean(cube[-1], axis=0) * 100
        layers = np.arange(len(before))
        axes.plot(layers, before, marker="o", markersize=2, label="pretrained")
        axes.plot(layers, after, marker="o", markersize=2, label="after last task")
        axes.set_title(strategy, fontsize=9)
        axes.set_xlabel("layer (0 = embeddings)")
        axes.grid(alpha=0.3)
    panels[0].set_ylabel("probe accuracy (%)")
    panels[0].legend(fontsize=7)
    figure.suptitle(f"{scenario} · order {order}: linear-probe accuracy per layer", fontsize=10)
    return save_figure(figure, out_dir, f"layer_probe_{file_slug(scenario)}_o{order}")


def cka_heatmaps(scenario: str, order: int, runs: dict[str, list[RunRecord]], out_dir: Path) -> list[Path]:
    """Linear CKA with the pretrained model, layer x row, per strategy (columns) and input set (rows of panels)."""
    sets = [("cka_corpus", "corpus tokens"), ("cka_tasks", "task texts")]
    grids = {(s, name): _row_by_layer(m) for s, r in sorted(runs.items()) for name, _ in sets if (m := _mean_series(r, name)) is not None}
    strategies = sorted({s for s, _ in grids})
    if not strategies:
        return []
    figure = new_figure(2.4 * len(strategies) + 1.0, 5.0)
    panels = figure.subplots(len(sets), len(strategies), squeeze=False)
    image = None
    for row, (name, title) in enumerate(sets):
        for column, strategy in enumerate(strategies):
            axes = panels[row][column]
            grid = grids.get((strategy, name))
            if grid is None:
                axes.set_axis_off()
                continue
            image = axes.imshow(np.ma.masked_invalid(grid.T), vmin=0, vmax=1, cmap="magma", aspect="auto", origin="lower")
            axes.set_title(f"{strategy} · {title}", fontsize=8)
            axes.set_xlabel("after task (0 = pretrained)", fontsize=7)
            axes.set_ylabel("layer", fontsize=7)
    if image is not None:
        figure.colorbar(image, ax=panels, label="linear CKA with the pretrained model")
    figure.suptitle(f"{scenario} · order {order}: representation drift per layer", fontsize=10)
    return save_figure(figure, out_dir, f"cka_{file_slug(scenario)}_o{order}")


def recovery_vs_forgetting(scenario: str, records: list[RunRecord], out_dir: Path) -> list[Path]:
    """How fast language modelling comes back, against task forgetting: the curves, and steps to within 5% per run.

    Left: perplexity over row 0's at every checkpoint of the last row's recovery (mean over a
    strategy's runs), beside row 0's own curve (the budget also adapts the pretrained model
    to the corpus). Right: each run's steps until within 5% of row 0 against its forgetting;
    a run not within the budget sits above it. The step count, not the share of the increase
    recovered, is plotted: that share divides by the perplexity increase, which is near zero for
    strategies that barely moved the language model (a ratio of 830% told nothing).
    """
    curves: dict[str, list[np.ndarray]] = defaultdict(list)
    pretrained: list[np.ndarray] = []  # row 0's curve: what the same budget does to the untouched model
    points: dict[str, list[tuple[float, float]]] = defaultdict(list)
    for record, label in zip(records, scenario_labels(records)):
        curve, ppl = series_array(record.measures.get("lm_recovery")), record.measures.get("perplexity")
        forgot = record.metrics.get("forgetting")
        if record.status != "finished" or label != scenario or curve is None or not ppl or ppl[0] is None or forgot is None:
            continue
        if np.isnan(curve[-1]).any():
            continue
        curves[record.strategy].append(curve[-1] / ppl[0])
        if not np.isnan(curve[0]).any():
            pretrained.append(curve[0] / ppl[0])
        steps = record.metrics.get("lm_recovery_steps")
        points[record.strategy].append((forgot * 100, _NOT_WITHIN if steps is None else RECOVERY_CHECKPOINTS.index(int(steps))))
    if not curves:
        return []
    figure = new_figure(10.0, 4.0)
    left, right = figure.subplots(1, 2)
    positions = np.arange(len(RECOVERY_CHECKPOINTS))
    for strategy in sorted(curves):
        line, = left.plot(positions, np.mean(curves[strategy], axis=0), marker="o", markersize=3, label=strategy)
        x, y = np.array(points[strategy]).T
        right.plot(x, y, marker="o", linestyle="none", color=line.get_color(), label=strategy)
    if pretrained:
        left.plot(positions, np.mean(pretrained, axis=0), color="black", linestyle=":", label="pretrained model, same budget")
    left.axhline(RECOVERED_WITHIN, color="grey", linestyle="--", linewidth=0.8, label="within 5% of pretrained")
    left.set_xticks(positions, [str(step) for step in RECOVERY_CHECKPOINTS])
    left.set_xlabel("language-model training steps after the last task")
    left.set_ylabel("perplexity / pretrained perplexity")
    left.legend(fontsize=7)
    right.set_yticks([*positions, _NOT_WITHIN], [*map(str, RECOVERY_CHECKPOINTS), f"> {RECOVERY_CHECKPOINTS[-1]}"])
    right.set_xlabel("task forgetting (%)")
    right.set_ylabel("steps until within 5% of pretrained")
    right.legend(fontsize=7)
    for axes in (left, right):
        axes.grid(alpha=0.3)
    figure.suptitle(f"{scenario}: language-model recovery speed vs task forgetting", fontsize=10)
    return save_figure(figure, out_dir, f"recovery_vs_forgetting_{file_slug(scenario)}")
