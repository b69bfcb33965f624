"""``accuracy``: test accuracy on each evaluated task, the accuracy matrix R every CL metric reads.

With heads it is the argmax over the task's head. In the text formulation it comes
with a second series from the same pass: ``accuracy_per_byte`` (rank classification,
length-normalised) or ``invalid_outputs`` (greedy decoding); see
:mod:`benchmark.engine.text_evaluation`.
"""

from __future__ import annotations

from typing import Any

from benchmark.core.config import SuiteConfig
from benchmark.engine.evaluation import task_accuracy
from benchmark.engine.measures.base import Measure, MeasureEnv, MeasurePoint, SeriesKind, register_measure
from benchmark.engine.text_evaluation import TextEval, competing_classes, text_task_accuracy
from benchmark.model.task_model import TaskModel


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
        config = env.config
        if config.formulation == "heads":
            return {"accuracy": {
                j: task_accuracy(model, point.tasks[j], pad_id=env.pad_id, batch_size=config.eval.batch_size,
                                 precision=env.precision, parallel=env.parallel)
                for j in point.columns
            }}
        how = TextEval(decode=config.decode, backbone=env.backbone, batch_size=config.eval.batch_size, precision=env.precision, parallel=env.parallel)
        values: dict[str, dict[int, float]] = {name: {} for name in self.series_for(config)}
        for j in point.columns:
            classes = competing_classes(point.tasks, point.row, j, config.setting)
            for name, value in text_task_accuracy(model, point.tasks[j], classes, how).items():
                values[name][j] = value
        return values
