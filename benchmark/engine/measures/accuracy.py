"""``accuracy``: test accuracy on each evaluated task, the accuracy matrix R every CL metric reads."""

from __future__ import annotations

from typing import Any

from benchmark.engine.evaluation import task_accuracy
from benchmark.engine.measures.base import Measure, MeasureEnv, MeasurePoint, register_measure
from benchmark.model.task_model import TaskModel


@register_measure("accuracy")
class Accuracy(Measure):
    """Test accuracy per task (argmax over the task's head): R[i][j], the accuracy matrix."""

    series = {"accuracy": "per_task"}

    def measure(self, model: TaskModel, point: MeasurePoint, env: MeasureEnv) -> dict[str, Any]:
        return {"accuracy": {
            j: task_accuracy(model, point.tasks[j], pad_id=env.pad_id, batch_size=env.config.eval.batch_size,
                             precision=env.precision, parallel=env.parallel)
            for j in point.columns
        }}
