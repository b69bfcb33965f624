"""Fine-tuning a copy of the model: what the recovery measures train, through the trainer's own step.

``task_recovery`` relearns an earlier task and ``lm_recovery`` relearns language
modelling, each on a deep copy so that the run's model is never touched. Both used to
carry a loop of their own; now the copy trains through :mod:`benchmark.engine.stepping`
like the run does: the run's processes (DistributedDataParallel over the copy, every
process on the same batch), its gradient clipping (``train.max_grad_norm``), its mixed
precision and fp16 loss scaling. The learning rate is constant (no warm-up or decay):
a recovery budget is a handful of steps, and a schedule would make step k's rate depend
on the budget.
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Iterable
from typing import Any

import torch
from torch import nn

from benchmark.engine.evaluation import autocast, model_device
from benchmark.engine.parallel import Parallel, make_parallel
from benchmark.engine.stepping import backward, optimizer_step
from benchmark.model.task_model import TaskModel

Loss = Callable[[TaskModel, dict[str, Any]], torch.Tensor]


class CopyLoss(nn.Module):
    """A loss over the copy as a module: what ``Accelerator.prepare`` wraps (DDP sees every parameter the loss uses)."""

    def __init__(self, model: TaskModel, loss: Loss) -> None:
        super().__init__()
        self.model = model
        self.loss = loss

    def forward(self, batch: dict[str, Any]) -> torch.Tensor:
        return self.loss(self.model, batch)


def finetune_copy(
    model: TaskModel, batches: Iterable[dict[str, Any]], loss: Loss, *,
    groups: Callable[[TaskModel], list[dict[str, Any]]], weight_decay: float, max_grad_norm: float | None, precision: str,
    parallel: Parallel | None = None, after_step: Callable[[int, TaskModel], None] | None = None,
) -> TaskModel:
    """A deep copy of ``model`` after one optimizer step per batch of ``batches``.

    Args:
        model: The run's model (left untouched).
        batches: One batch per step (tensors are moved to the model's device).
        loss: The copy's loss on a batch.
        groups: The copy's AdamW parameter groups (nothing trainable: the copy is returned unchanged).
        weight_decay: AdamW's weight decay where a group does not set its own.
        max_grad_norm: Gradient clipping (None: none).
        precision: Autocast precision (fp32, bf16, fp16).
        parallel: The run's processes (default: this process alone).
        after_step: Called with (step, copy) before the first step (step 0) and after every step.
    """
    trainee = copy.deepcopy(model)
    param_groups = groups(trainee)
    if after_step is not None:
        after_step(0, trainee)
    if not param_groups:
        return trainee
    device = model_device(trainee)
    parallel = parallel or make_parallel(device.type, precision)
    accelerator = parallel.accelerator
    distributed = accelerator.prepare_model(CopyLoss(trainee, loss), device_placement=False)
    optimizer = accelerator.prepare_optimizer(torch.optim.AdamW(param_groups, weight_decay=weight_decay), device_placement=False)
    params = [p for group in optimizer.param_groups for p in group["params"]]
    try:
        for step, batch in enumerate(batches, 1):
            trainee.train()
            moved = {k: v.to(device) if isinstance(v, torch.Tensor) else v for k, v in batch.items()}
            with autocast(precision, device):
                value = distributed(moved)
            backward(value, parallel)
            optimizer_step(optimizer, None, params, max_grad_norm, parallel)
            if after_step is not None:
                after_step(step, trainee)
    finally:
        accelerator.unwrap_model(distributed, keep_fp32_wrapper=False)
        parallel.release_training_state()
    return trainee
