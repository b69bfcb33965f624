"""``accuracy``: test accuracy on each evaluated task, the accuracy matrix R every CL metric reads.

With heads it is the argmax over the task's head. In the text formulation it comes
with a second series from the same pass: ``accuracy_per_byte`` (rank classification,
length-normalised) or ``invalid_outputs`` (greedy decoding); see
:mod:`benchmark.engine.text_evaluation`. Beside every accuracy cell it stores the
per-example ``outcomes`` (gold and chosen class of each test example,
:mod:`benchmark.results.outcomes`), from which the cell can be recomputed.
"""

from __future__ import annotations

from typing import Any

import torch

from benchmark.core.config import SuiteConfig
from benchmark.engine.evaluation import autocast, model_device, task_choices
from benchmark.engine.measures.base import Measure, MeasureEnv, MeasurePoint, SeriesKind, register_measure
from benchmark.model.encoding import EncodedTask
from benchmark.engine.text_evaluation import TextEval, competing_classes, text_task_accuracy
from benchmark.model.task_model import TaskModel, eval_mode
from benchmark.results.outcomes import SERIES as OUTCOMES, scored


def shared_pass_accuracy(model: TaskModel, task: EncodedTask, env: MeasureEnv) -> dict[str, float | str]:
    """The task's head on the final-layer features other measures of this point read too (one pass over the test split, not two).

    Returns ``accuracy`` and its ``outcomes`` cell.
    """
    features = env.task_features(model, task, "test")
    device = model_device(model)
    head = model.heads[task.head]
    # The head under the same autocast as the plain pass, so the accuracy is the one it gives.
    with eval_mode(model), torch.inference_mode(), autocast(env.precision, device):
        logits = head(features.final.to(device))
    return heads_values(task, logits.argmax(dim=-1).cpu().tolist())


def heads_values(task: EncodedTask, chosen: list[int]) -> dict[str, float | str]:
    """``accuracy`` and the ``outcomes`` cell of the classes a task's head chose for its test examples."""
    accuracy, cell = scored(task.test.labels, chosen)
    return {"accuracy": accuracy, OUTCOMES: cell}


@register_measure("accuracy")
class Accuracy(Measure):
    """Test accuracy per task: R[i][j], the accuracy matrix (heads: the task's head; text: its answers)."""

    series = {"accuracy": "per_task", OUTCOMES: "per_task"}

    @classmethod
    def series_for(cls, config: SuiteConfig | None) -> dict[str, SeriesKind]:
        if config is None or config.formulation == "heads":
            return dict(cls.series)
        return {**cls.series, "accuracy_per_byte" if config.decode == "rank" else "invalid_outputs": "per_task"}

    def measure(self, model: TaskModel, point: MeasurePoint, env: MeasureEnv) -> dict[str, Any]:
        values: dict[str, dict[int, float | str]] = {name: {} for name in self.series_for(env.config)}
        shared = env.config.formulation == "heads" and env.shares_features and (env.parallel is None or env.parallel.processes == 1)
        for j in point.columns:
            got = shared_pass_accuracy(model, point.tasks[j], env) if shared else column_accuracy(model, point, j, env)
            for name, value in got.items():
                values[name][j] = value
        return values


def column_accuracy(model: TaskModel, point: MeasurePoint, j: int, env: MeasureEnv) -> dict[str, float | str]:
    """Accuracy on task column ``j`` at ``point`` in its own pass, with its outcomes (text: and its second series), by name of series."""
    config = env.config
    task = point.tasks[j]
    if config.formulation == "heads":
        chosen = task_choices(model, task, pad_id=env.pad_id, batch_size=config.eval.batch_size, precision=env.precision, parallel=env.parallel)
        return heads_values(task, chosen)
    how = TextEval(decode=config.decode, backbone=env.backbone, batch_size=config.eval.batch_size, precision=env.precision, parallel=env.parallel)
    return text_task_accuracy(model, task, competing_classes(point.tasks, point.row, j, config.setting), how)
