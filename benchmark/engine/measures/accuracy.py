"""``accuracy``: test accuracy on each evaluated task, the accuracy matrix R every CL metric reads.

With heads it is the argmax over the task's head. In the text formulation it comes
with a second series from the same pass: ``accuracy_per_byte`` (rank classification,
length-normalised) or ``invalid_outputs`` (greedy decoding); see
:mod:`benchmark.engine.text_evaluation`.
"""

from __future__ import annotations

from typing import Any

import torch

from benchmark.core.config import SuiteConfig
from benchmark.engine.evaluation import autocast, model_device, task_accuracy
from benchmark.engine.measures.base import Measure, MeasureEnv, MeasurePoint, SeriesKind, register_measure
from benchmark.model.encoding import EncodedTask
from benchmark.engine.text_evaluation import TextEval, competing_classes, text_task_accuracy
from benchmark.model.task_model import TaskModel, eval_mode


def shared_pass_accuracy(model: TaskModel, task: EncodedTask, env: MeasureEnv) -> float:
    """The task's head on the final-layer features other measures of this point read too (one pass over the test split, not two)."""
    features = env.task_features(model, task, "test")
    device = model_device(model)
    head = model.heads[task.head]
    # The head under the same autocast as the plain pass, so the accuracy is the one it gives.
    with eval_mode(model), torch.inference_mode(), autocast(env.precision, device):
        logits = head(features.final.to(device))
    return int((logits.argmax(dim=-1).cpu() == features.labels).sum()) / len(task.test)


@register_measure("accuracy")
class Accuracy(Measure):
    """Test accuracy per task: R[i][j], the accuracy matrix (heads: the task's head; text: its answers)."""

    series = {"accuracy": "per_task"}

    @classmethod
    def series_for(cls, config: SuiteConfig | None) -> dict[str, SeriesKind]:
        if config is None or config.formulation == "heads":
            return dict(cls.series)
        return {"accuracy": "per_task", "accuracy_per_byte" if config.decode == "rank" else "invalid_outputs": "per_task"}

    def measure(self, model: TaskModel, point: MeasurePoint, env: MeasureEnv) -> dict[str, Any]:
        if env.config.formulation == "heads" and env.shares_features and (env.parallel is None or env.parallel.processes == 1):
            return {"accuracy": {j: shared_pass_accuracy(model, point.tasks[j], env) for j in point.columns}}
        values: dict[str, dict[int, float]] = {name: {} for name in self.series_for(env.config)}
        for j in point.columns:
            for name, value in column_accuracy(model, point, j, env).items():
                values[name][j] = value
        return values


def column_accuracy(model: TaskModel, point: MeasurePoint, j: int, env: MeasureEnv) -> dict[str, float]:
    """Accuracy on task column ``j`` at ``point`` in its own pass (text: with its second series), by name of series."""
    config = env.config
    task = point.tasks[j]
    if config.formulation == "heads":
        return {"accuracy": task_accuracy(model, task, pad_id=env.pad_id, batch_size=config.eval.batch_size, precision=env.precision, parallel=env.parallel)}
    how = TextEval(decode=config.decode, backbone=env.backbone, batch_size=config.eval.batch_size, precision=env.precision, parallel=env.parallel)
    return text_task_accuracy(model, task, competing_classes(point.tasks, point.row, j, config.setting), how)
