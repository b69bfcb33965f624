"""``layer_probe``: linear-probe accuracy at every layer, at row 0 and after the last task (Merchant et al. 2020's question).

For every task, the probe of :mod:`benchmark.engine.measures.probe` is fitted at each
layer's pooled features (embeddings first, final layer last) of the task's test split,
from the same pass as accuracy. Each layer uses the C the final layer's probe chose (one
choice per task and row), so a layer's accuracy differs from another's by its features
alone. The series' cells are lists over layers: a layer x task table per row, taken
only at row 0 and the last row. Series ``layer_probe_outcomes`` holds, per cell and
layer, each test example's gold class and the class that layer's probe chose (so
``validate`` recomputes every layer's accuracy, and examples can be followed across
layers).
"""

from __future__ import annotations

from typing import Any

from benchmark.core.hashing import derived_seed
from benchmark.engine.measures.base import Measure, MeasureEnv, MeasurePoint, refuse_small_test_splits, register_measure
from benchmark.engine.probing import FOLDS, cross_fitted_predictions, first_fold_c
from benchmark.model.task_model import TaskModel
from benchmark.results.outcomes import scored


@register_measure("layer_probe")
class LayerProbe(Measure):
    """Probe accuracy of every task at every layer, before training and after the last task."""

    series = {"layer_probe": "per_task", "layer_probe_outcomes": "per_task"}
    after = "last_task"
    reads_features = True
    model_kinds = ("causal", "encoder")

    def check_setup(self, env: MeasureEnv, test_sizes: dict[str, int]) -> None:
        refuse_small_test_splits("layer_probe", test_sizes, 2 * FOLDS, f"its probes are cross-fitted over {FOLDS} folds, each holding out at least 2")

    def measure(self, model: TaskModel, point: MeasurePoint, env: MeasureEnv) -> dict[str, Any]:
        values: dict[int, list[float]] = {}
        outcomes: dict[int, list[str]] = {}
        for j in point.columns:
            task = point.tasks[j]
            features = env.task_features(model, task, "test")
            labels = features.labels.numpy()
            seed = derived_seed("probe", task.name)
            c = first_fold_c(features.final.numpy(), labels, seed=seed)
            per_layer = [scored(labels, cross_fitted_predictions(layer.numpy(), labels, seed=seed, c=c)) for layer in features.layers]
            values[j] = [accuracy for accuracy, _ in per_layer]
            outcomes[j] = [cell for _, cell in per_layer]
        return {"layer_probe": values, "layer_probe_outcomes": outcomes}
