"""``accuracy``: test accuracy on each evaluated task, the accuracy matrix R every CL metric reads.

How a column is scored is the formulation's (:mod:`benchmark.engine.formulations`):
with heads the argmax over the task's head; posed as text, rank classification or
greedy decoding, with a second series from the same pass (``accuracy_per_byte`` or
``invalid_outputs``). Beside every accuracy cell it stores the per-example
``outcomes`` (gold and chosen class of each test example,
:mod:`benchmark.results.outcomes`), from which the cell can be recomputed.
"""

from __future__ import annotations

from typing import Any

from benchmark.core.config import SuiteConfig
from benchmark.engine.formulations import Scoring, formulation
from benchmark.engine.measures.base import Measure, MeasureEnv, MeasurePoint, SeriesKind, register_measure
from benchmark.model.task_model import TaskModel
from benchmark.results.outcomes import SERIES as OUTCOMES


@register_measure("accuracy")
class Accuracy(Measure):
    """Test accuracy per task: R[i][j], the accuracy matrix (heads: the task's head; text: its answers)."""

    series = {"accuracy": "per_task", OUTCOMES: "per_task"}

    @classmethod
    def series_for(cls, config: SuiteConfig | None) -> dict[str, SeriesKind]:
        extra = formulation(config.formulation).extra_series(config) if config is not None else ()
        return {**cls.series, **{name: "per_task" for name in extra}}

    def measure(self, model: TaskModel, point: MeasurePoint, env: MeasureEnv) -> dict[str, Any]:
        values: dict[str, dict[int, float | str]] = {name: {} for name in self.series_for(env.config)}
        posing, scoring = formulation(env.config.formulation), scoring_of(env)
        # Features are shared within one process only (they are not sharded).
        shared = posing.scores_from_features and env.shares_features and (env.parallel is None or env.parallel.processes == 1)
        for j in point.columns:
            task = point.tasks[j]
            if shared:
                got = posing.score_features(model, task, lambda task=task: env.task_features(model, task, "test"), scoring)
            else:
                got = posing.score(model, point.tasks, point.row, j, scoring)
            for name, value in got.items():
                values[name][j] = value
        return values


def scoring_of(env: MeasureEnv) -> Scoring:
    """The run's scoring settings as a measure environment holds them."""
    return Scoring(backbone=env.backbone, config=env.config, precision=env.precision, parallel=env.parallel)


def column_accuracy(model: TaskModel, point: MeasurePoint, j: int, env: MeasureEnv) -> dict[str, float | str]:
    """Accuracy on task column ``j`` at ``point`` in its own pass, with its outcomes and the formulation's extra series."""
    return formulation(env.config.formulation).score(model, point.tasks, point.row, j, scoring_of(env))
