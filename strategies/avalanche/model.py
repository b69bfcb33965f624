"""The forgetbench model as an Avalanche multi-task module.

Avalanche trains ``model(x, task_labels)`` on one input tensor. This wrapper takes the
``[batch, 2, width]`` tensor of :mod:`strategies.avalanche.data` (ids and mask),
routes each example to its task's head of the wrapped :class:`TaskModel` and returns
the class logits. The wrapped model's parameters are the wrapper's parameters, so
forgetbench's evaluation of the wrapped model sees every update Avalanche makes.
"""

from __future__ import annotations

import torch
from avalanche.models import MultiTaskModule

from benchmark.model.task_model import TaskModel


class AvalancheTaskModel(MultiTaskModule):
    """Multi-head adapter around a :class:`TaskModel`.

    Args:
        model: The model forgetbench evaluates (trained in place).
        heads: Head name of every Avalanche task label, by label.
    """

    def __init__(self, model: TaskModel, heads: list[str]) -> None:
        super().__init__()
        self.model = model
        self.heads = heads

    def forward_single_task(self, x: torch.Tensor, task_label: int) -> torch.Tensor:
        return self.model(x[:, 0], x[:, 1], self.heads[int(task_label)])

    def forward(self, x: torch.Tensor, task_labels: torch.Tensor | int | None) -> torch.Tensor:
        # Avalanche pads every head's logits with zeros to the widest head seen so far,
        # even when the whole batch is one task; zeros would enter the softmax of a
        # narrower head. One-task batches (all but replayed ones) return the head's own logits.
        if isinstance(task_labels, torch.Tensor) and task_labels.numel() > 0 and bool((task_labels == task_labels[0]).all()):
            return self.forward_single_task(x, int(task_labels[0]))
        return super().forward(x, task_labels)
