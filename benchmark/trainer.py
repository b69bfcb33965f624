"""Training on one task: the only place in forgetbench that calls backward() and step()."""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch
import torch.nn.functional as F
from tqdm.auto import tqdm
from transformers import get_constant_schedule_with_warmup, get_linear_schedule_with_warmup

from benchmark.batching import train_batch_indices
from benchmark.config import TrainConfig
from benchmark.encoding import EncodedTask
from benchmark.evaluation import autocast, model_device
from benchmark.task_model import TaskModel
from strategies.base import Strategy


class NumericalFault(RuntimeError):
    """The loss became NaN or infinite; names the task and the step."""

    def __init__(self, task: str, step: int, value: float) -> None:
        super().__init__(
            f"the training loss became {value} on task {task!r} at step {step}; lower the learning rate "
            "(train.lr) or the strategy's penalty weight, or use precision fp32"
        )
        self.task = task
        self.step = step


@dataclass
class TrainStats:
    """What one task's training did."""

    steps: int
    examples: int
    final_loss: float


def trainable_parameter_groups(model: TaskModel, task: EncodedTask, config: TrainConfig) -> list[dict[str, object]]:
    """Backbone (and strategy-added) parameters at ``lr``; this task's head at ``head_lr``.

    Other tasks' heads stay out of the optimizer, so weight decay cannot touch them.
    """
    head_params = list(model.heads[task.head].parameters())
    head_ids = {id(p) for head in model.heads.values() for p in head.parameters()}
    body = [p for p in model.parameters() if p.requires_grad and id(p) not in head_ids]
    groups: list[dict[str, object]] = [{"params": [p for p in head_params if p.requires_grad], "lr": config.head_lr}]
    if body:
        groups.insert(0, {"params": body, "lr": config.lr})
    return groups


def make_scheduler(optimizer: torch.optim.Optimizer, config: TrainConfig, total_steps: int) -> torch.optim.lr_scheduler.LambdaLR:
    """Warm-up then linear decay to zero (or constant), from transformers' schedules."""
    warmup = int(math.ceil(config.warmup_ratio * total_steps))
    if config.schedule == "linear":
        return get_linear_schedule_with_warmup(optimizer, warmup, total_steps)
    return get_constant_schedule_with_warmup(optimizer, warmup)


def train_task(
    model: TaskModel, task: EncodedTask, strategy: Strategy, config: TrainConfig, *,
    pad_id: int, generator: torch.Generator, progress: bool = False, description: str = "",
) -> TrainStats:
    """Trains ``model`` on ``task`` for ``config.epochs`` epochs with ``strategy``'s penalty.

    Args:
        model: The (possibly strategy-wrapped) model.
        task: The task to learn.
        strategy: Supplies the penalty added to the cross-entropy loss.
        config: Optimiser and schedule settings.
        pad_id: Padding token id.
        generator: Drives the batch order (seeded per run and task).
        progress: Show a tqdm bar.
        description: The bar's label.
    """
    device = model_device(model)
    epochs = [train_batch_indices(task.train.lengths, config.batch_size, generator=generator, bucket_batches=config.bucket_batches) for _ in range(config.epochs)]
    total_steps = sum(len(e) for e in epochs)
    optimizer = torch.optim.AdamW(trainable_parameter_groups(model, task, config), weight_decay=config.weight_decay)
    scheduler = make_scheduler(optimizer, config, total_steps)
    params = [p for group in optimizer.param_groups for p in group["params"]]
    model.train()
    step = 0
    loss_value = float("nan")
    bar = tqdm(total=total_steps, desc=description, disable=not progress, leave=False, unit="step", dynamic_ncols=True)
    for batches in epochs:
        for indices in batches:
            batch = task.train.batch(indices, pad_id)
            batch = {k: v.to(device) for k, v in batch.items()}
            batch["head"] = task.head
            with autocast(config.precision, device):
                logits = model(batch["input_ids"], batch["attention_mask"], task.head)
                loss = F.cross_entropy(logits.float(), batch["labels"])
                extra = strategy.penalty(model, batch, logits)
                if extra is not None:
                    loss = loss + extra
            step += 1
            loss_value = float(loss.detach())
            if not math.isfinite(loss_value):
                bar.close()
                raise NumericalFault(task.name, step, loss_value)
            loss.backward()
            if config.max_grad_norm is not None:
                torch.nn.utils.clip_grad_norm_(params, config.max_grad_norm)
            optimizer.step()
            scheduler.step()
            optimizer.zero_grad(set_to_none=True)
            bar.update()
            bar.set_postfix(loss=f"{loss_value:.3f}", refresh=False)
    bar.close()
    return TrainStats(steps=step, examples=len(task.train) * config.epochs, final_loss=loss_value)
