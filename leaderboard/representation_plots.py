"""Figures of why a model forgot, from the ``layer_probe``, ``cka`` and ``lm_recovery`` series of run records.

- ``layer_probe_<scenario>_o<order>``: probe accuracy per layer (mean over tasks) before
  training and after the last task, one panel per strategy (Merchant et al. 2020's view);
- ``cka_<scenario>_o<order>``: linear CKA with the pretrained model, layer x row, one
  heatmap per strategy and input set (corpus tokens, task texts: the mean over the tasks
  measured at each row);
- ``recovery_vs_forgetting_<scenario>``: the share of the perplexity increase undone by
  the recovery budget against task forgetting, one point per strategy.

Values average the runs that share a task order (seeds). A figure is drawn only where
some record holds its series.
"""

from __future__ import annotations

import warnings
from collections import defaultdict
from pathlib import Path

import numpy as np

from benchmark.results.metrics import series_array
from benchmark.results.records import RunRecord
from leaderboard.aggregate import scenario_labels
from leaderboard.plots import _figure, _save, _slug


def _mean_series(runs: list[RunRecord], series: str) -> np.ndarray | None:
    arrays = [a for a in (series_array(r.measures.get(series)) for r in runs) if a is not None]
    if not arrays or len({a.shape for a in arrays}) != 1:
        return None
    return _nanmean(np.stack(arrays), axis=0)


def _row_by_layer(values: np.ndarray) -> np.ndarray:
    """A (rows, layers) grid: per-task cells (rows, tasks, layers) averaged over the tasks measured at each row."""
    return _nanmean(values, axis=1) if values.ndim == 3 else values


def _nanmean(values: np.ndarray, axis: int) -> np.ndarray:
    """Mean over ``axis`` ignoring NaN; all-NaN slices (unmeasured rows) stay NaN without a warning."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        return np.nanmean(values, axis=axis)


def layer_probe_panels(scenario: str, order: int, runs: dict[str, list[RunRecord]], out_dir: Path) -> list[Path]:
    """Per-layer probe accuracy (mean over tasks) at row 0 and after the last task, a panel per strategy."""
    cubes = {s: c for s, c in ((s, _mean_series(r, "layer_probe")) for s, r in sorted(runs.items())) if c is not None}
    if not cubes:
        return []
    figure = _figure(2.6 * len(cubes) + 0.6, 3.0)
    panels = figure.subplots(1, len(cubes), sharey=True, squeeze=False)[0]
    for axes, (strategy, cube) in zip(panels, cubes.items()):
        before, after = _nanmean(cube[0], axis=0) * 100, _nanmean(cube[-1], axis=0) * 100
        layers = np.arange(len(before))
        axes.plot(layers, before, marker="o", markersize=2, label="pretrained")
        axes.plot(layers, after, marker="o", markersize=2, label="after last task")
        axes.set_title(strategy, fontsize=9)
        axes.set_xlabel("layer (0 = embeddings)")
        axes.grid(alpha=0.3)
    panels[0].set_ylabel("probe accuracy (%)")
    panels[0].legend(fontsize=7)
    figure.suptitle(f"{scenario} · order {order}: linear-probe accuracy per layer", fontsize=10)
    return _save(figure, out_dir, f"layer_probe_{_slug(scenario)}_o{order}")


def cka_heatmaps(scenario: str, order: int, runs: dict[str, list[RunRecord]], out_dir: Path) -> list[Path]:
    """Linear CKA with the pretrained model, layer x row, per strategy (columns) and input set (rows of panels)."""
    sets = [("cka_corpus", "corpus tokens"), ("cka_tasks", "task texts")]
    grids = {(s, name): _row_by_layer(m) for s, r in sorted(runs.items()) for name, _ in sets if (m := _mean_series(r, name)) is not None}
    strategies = sorted({s for s, _ in grids})
    if not strategies:
        return []
    figure = _figure(2.4 * len(strategies) + 1.0, 5.0)
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
    return _save(figure, out_dir, f"cka_{_slug(scenario)}_o{order}")


def recovery_vs_forgetting(scenario: str, records: list[RunRecord], out_dir: Path) -> list[Path]:
    """Share of the perplexity increase recovered at the budget against forgetting, one point per strategy (mean over runs)."""
    by_strategy: dict[str, list[tuple[float, float]]] = defaultdict(list)
    for record, label in zip(records, scenario_labels(records)):
        recovered, forgot = record.metrics.get("lm_recovery_fraction"), record.metrics.get("forgetting")
        if record.status == "finished" and label == scenario and recovered is not None and forgot is not None:
            by_strategy[record.strategy].append((forgot * 100, recovered * 100))
    if not by_strategy:
        return []
    figure = _figure(5.5, 4.0)
    axes = figure.add_subplot()
    for strategy, points in sorted(by_strategy.items()):
        x, y = np.mean(points, axis=0)
        axes.plot(x, y, marker="o", linestyle="none")
        axes.annotate(strategy, (x, y), textcoords="offset points", xytext=(4, 4), fontsize=8)
    axes.set_xlabel("task forgetting (%)")
    axes.set_ylabel("perplexity increase recovered in 32 LM steps (%)")
    axes.set_title(f"{scenario}: language-model recovery vs task forgetting", fontsize=10)
    axes.grid(alpha=0.3)
    return _save(figure, out_dir, f"recovery_vs_forgetting_{_slug(scenario)}")
