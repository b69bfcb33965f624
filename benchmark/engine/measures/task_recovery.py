"""``task_recovery``: relearning savings, how fast an earlier task comes back from the final weights.

After the last task, for each earlier task j, a copy of the final model trains for
:data:`STEPS` steps on task j's own training split (the task's plain objective: its
head's cross-entropy, or in the text formulation its answers' loss; no strategy
penalty), with the parameters the strategy left trainable, the run's optimiser settings,
batch size, gradient clipping and precision (the trainer's step,
:mod:`benchmark.engine.finetune`) at a constant learning rate, in a seeded order; the
copy's accuracy on j's test split is recorded.
The run's model is never touched. Metric: the fraction of the lost accuracy regained.
Series ``task_recovery_outcomes`` holds the relearned copy's choice for every test example.
"""

from __future__ import annotations

from typing import Any

import torch

from benchmark.core.hashing import derived_seed
from benchmark.engine.finetune import finetune_copy
from benchmark.engine.measures.accuracy import column_accuracy
from benchmark.engine.measures.base import Measure, MeasureEnv, MeasurePoint, register_measure
from benchmark.engine.objective import parameter_groups, task_loss
from benchmark.model.batching import train_batch_indices
from benchmark.model.encoding import EncodedTask
from benchmark.model.task_model import TaskModel
from benchmark.results.outcomes import SERIES as OUTCOMES

STEPS = 8


def relearn(model: TaskModel, task: EncodedTask, env: MeasureEnv) -> TaskModel:
    """A copy of ``model`` after :data:`STEPS` steps on ``task``'s training split (unchanged if nothing is trainable)."""
    train = env.config.train
    generator = torch.Generator().manual_seed(derived_seed("task recovery", task.name))
    batches: list[list[int]] = []
    while len(batches) < STEPS:
        batches += train_batch_indices(task.train.lengths, train.batch_size, generator=generator)
    steps = ({**task.train.batch(indices, env.pad_id), "head": task.head} for indices in batches[:STEPS])
    return finetune_copy(
        model, steps, lambda trainee, batch: task_loss(trainee, batch, batch["head"])[0],
        groups=lambda trainee: parameter_groups(trainee, [task], train), weight_decay=train.weight_decay,
        max_grad_norm=train.max_grad_norm, precision=env.precision, parallel=env.parallel,
    )


@register_measure("task_recovery")
class TaskRecovery(Measure):
    """Accuracy on each earlier task after 8 steps of relearning it from the final weights (the last row only)."""

    series = {"task_recovery": "per_task", "task_recovery_outcomes": "per_task"}
    after = "last_task"

    def measure(self, model: TaskModel, point: MeasurePoint, env: MeasureEnv) -> dict[str, Any]:
        earlier = [j for j in point.columns if j < point.row - 1]  # row 0: none
        values, outcomes = {}, {}
        for j in earlier:
            trainee = relearn(model, point.tasks[j], env)
            scored = column_accuracy(trainee, point, j, env)
            values[j], outcomes[j] = scored["accuracy"], scored[OUTCOMES]
            del trainee
        return {"task_recovery": values, "task_recovery_outcomes": outcomes}
