"""``probe``: linear-probe accuracy P, with the shape of R (Davari et al. 2022, representation forgetting).

After row 0 and each task, for every evaluated task j, fresh linear probes are fitted
on the current model's final-layer pooled features of task j's test split and score
it by 5-fold cross-fitting (each example scored by a probe that never saw it; protocol
and why: :mod:`benchmark.engine.probing`). The features are the ones the task's head
reads (the task's own path), from the same pass as accuracy, so probes cost no forward
pass; in the text formulation they are those of the prompt's last token, where the
answer is predicted. P - R is the readout gap on the same examples: what is still
linearly present in the representation but not read out. Series ``probe_outcomes``
holds, per cell, each test example's gold class and the class its probe chose.
"""

from __future__ import annotations

from typing import Any

from benchmark.core.hashing import derived_seed
from benchmark.engine.measures.base import Measure, MeasureEnv, MeasurePoint, refuse_small_test_splits, register_measure
from benchmark.engine.probing import FOLDS, cross_fitted_predictions
from benchmark.model.task_model import TaskModel
from benchmark.results.outcomes import scored


@register_measure("probe")
class Probe(Measure):
    """Linear-probe accuracy of every evaluated task on the current model's features (the probe matrix P)."""

    series = {"probe": "per_task", "probe_outcomes": "per_task"}
    reads_features = True
    model_kinds = ("causal", "encoder")

    def check_setup(self, env: MeasureEnv, test_sizes: dict[str, int]) -> None:
        refuse_small_test_splits("probe", test_sizes, 2 * FOLDS, f"its probes are cross-fitted over {FOLDS} folds, each holding out at least 2")

    def measure(self, model: TaskModel, point: MeasurePoint, env: MeasureEnv) -> dict[str, Any]:
        values: dict[int, float] = {}
        outcomes: dict[int, str] = {}
        for j in point.columns:
            task = point.tasks[j]
            test = env.task_features(model, task, "test")
            labels = test.labels.numpy()
            predicted = cross_fitted_predictions(test.final.numpy(), labels, seed=derived_seed("probe", task.name))
            values[j], outcomes[j] = scored(labels, predicted)
        return {"probe": values, "probe_outcomes": outcomes}
