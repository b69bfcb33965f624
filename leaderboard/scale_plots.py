"""The model axis figure: forgetting and perplexity ratio against parameter count, one line per strategy.

``scale_<scenario>`` is drawn for a scenario whose records hold runs of at least two
models (``--model a,b``). Each point is the mean over a (strategy, model)'s runs, at the
model's total parameter count (log scale); error bars are one std where there are
several runs. A model without an LM head has no perplexity, so it is absent from the
right panel (its records say why).
"""

from __future__ import annotations

from collections import defaultdict
from pathlib import Path

import numpy as np

from benchmark.results.records import RunRecord
from leaderboard.aggregate import scenario_labels
from leaderboard.drawing import file_slug, new_figure, save_figure

PANELS = (("forgetting", 100.0, "forgetting (%) ↓"), ("ppl_ratio", 1.0, "PPL ratio ↓"))


def scale_points(records: list[RunRecord], scenario: str) -> dict[str, dict[str, list[RunRecord]]]:
    """Finished runs of ``scenario`` (its label without the model) by strategy, then by model."""
    grouped: dict[str, dict[str, list[RunRecord]]] = defaultdict(lambda: defaultdict(list))
    for record, label in zip(records, scenario_labels(records, with_model=False)):
        if record.status == "finished" and label == scenario:
            grouped[record.strategy][record.model].append(record)
    return grouped


def scale_figure(scenario: str, records: list[RunRecord], out_dir: Path) -> list[Path]:
    """Forgetting and PPL ratio against parameter count per strategy; nothing where fewer than two models ran."""
    grouped = scale_points(records, scenario)
    if len({model for by_model in grouped.values() for model in by_model}) < 2:
        return []
    figure = new_figure(10.0, 4.0)
    for index, (metric, scale, label) in enumerate(PANELS):
        axes = figure.add_subplot(1, len(PANELS), index + 1)
        for strategy, by_model in sorted(grouped.items()):
            points = []
            for runs in by_model.values():
                values = np.array([r.metrics.get(metric) for r in runs], dtype=float) * scale
                values = values[~np.isnan(values)]
                if len(values):
                    points.append((runs[0].parameters["total"], values.mean(), values.std() if len(values) > 1 else 0.0))
            if points:
                x, y, err = map(np.array, zip(*sorted(points)))
                axes.errorbar(x, y, yerr=err, marker="o", capsize=2, label=strategy)
        axes.set_xscale("log")
        axes.set_xlabel("parameters (total)")
        axes.set_ylabel(label)
        axes.grid(alpha=0.3)
        if index == 0:
            axes.legend(fontsize=7)
    models = sorted({model for by_model in grouped.values() for model in by_model})
    figure.suptitle(f"{scenario}: forgetting and perplexity drift against model size ({', '.join(models)})", fontsize=10)
    return save_figure(figure, out_dir, f"scale_{file_slug(scenario)}")
