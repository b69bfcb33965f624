"""The loss of stored examples of earlier tasks, each scored by its own task (replay's batches, A-GEM's reference)."""

from __future__ import annotations

from typing import Any

import torch
import torch.nn.functional as F

from benchmark.model.batching import pad_batch
from benchmark.model.task_model import TaskModel
from benchmark.model.text_batches import answer_batch

Stored = tuple[list[int], int, str]
"""An example kept from an earlier task: its token ids, its label (or answer index) and its task's head."""


def summed_memory_loss(model: TaskModel, items: list[Stored], run: Any, device: torch.device) -> torch.Tensor:
    """The summed loss of ``items``: cross-entropy through each one's head, or its answer loss in the text formulations.

    Args:
        model: The model being trained.
        items: Stored examples, grouped here by task.
        run: The run context (its tasks' answers and the padding id).
        device: Where the batches go.
    """
    total = torch.zeros((), device=device)
    answers = {task.head: task.answers for task in run.tasks}
    for head in sorted({item[2] for item in items}):
        group = [item for item in items if item[2] == head]
        if answers.get(head) is not None:  # text formulation: the mean answer-token loss, weighted by the group's examples
            replayed = answer_batch([item[0] for item in group], [item[1] for item in group], answers[head], run.pad_id)
            loss, _ = model.answer_loss({k: v.to(device) for k, v in replayed.items()}, head)
            total = total + loss * len(group)
            continue
        ids, mask = pad_batch([item[0] for item in group], run.pad_id)
        labels = torch.tensor([item[1] for item in group], device=device)
        logits = model(ids.to(device), mask.to(device), head)
        total = total + F.cross_entropy(logits.float(), labels, reduction="sum")
    return total
