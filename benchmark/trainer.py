"""Training on a task (or, for the joint reference, on several at once).

The only place in forgetbench that calls ``backward()`` and ``step()``. The loss is
cross-entropy on the batch plus whatever the strategy's ``penalty`` returns.
Schedules that apply to every strategy live here: warm-up + linear decay,
discriminative (layer-wise) learning rates and gradual unfreezing.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch
import torch.nn.functional as F
from tqdm.auto import tqdm
from transformers import get_constant_schedule_with_warmup, get_linear_schedule_with_warmup

from benchmark import faults
from benchmark.batching import train_batch_indices
from benchmark.config import TrainConfig
from benchmark.encoding import EncodedTask
from benchmark.evaluation import autocast, model_device
from benchmark.layers import parameter_depths
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
    """What one training call did."""

    steps: int
    examples: int
    final_loss: float


def parameter_groups(model: TaskModel, tasks: list[EncodedTask], config: TrainConfig) -> list[dict[str, object]]:
    """Optimiser groups: trainable backbone/strategy parameters at ``lr`` (or layer-wise), heads at ``head_lr``.

    Only the heads of ``tasks`` are optimised, so weight decay never touches the heads
    of other tasks.
    """
    head_names = {task.head for task in tasks}
    all_head_ids = {id(p) for head in model.heads.values() for p in head.parameters()}
    heads = [p for name in sorted(head_names) for p in model.heads[name].parameters() if p.requires_grad]
    body = [p for p in model.parameters() if p.requires_grad and id(p) not in all_head_ids]
    groups: list[dict[str, object]] = []
    if body and config.layer_lr_decay is not None:
        depths, n_blocks = parameter_depths(model)
        by_depth: dict[int, list[torch.nn.Parameter]] = {}
        for p in body:
            by_depth.setdefault(depths.get(id(p), n_blocks + 1), []).append(p)
        for depth in sorted(by_depth):
            groups.append({"params": by_depth[depth], "lr": config.lr * config.layer_lr_decay ** (n_blocks + 1 - depth)})
    elif body:
        groups.append({"params": body, "lr": config.lr})
    groups.append({"params": heads, "lr": config.head_lr})
    return groups


def make_scheduler(optimizer: torch.optim.Optimizer, config: TrainConfig, total_steps: int) -> torch.optim.lr_scheduler.LambdaLR:
    """Warm-up then linear decay to zero (or constant), from transformers' schedules."""
    warmup = int(math.ceil(config.warmup_ratio * total_steps))
    if config.schedule == "linear":
        return get_linear_schedule_with_warmup(optimizer, warmup, total_steps)
    return get_constant_schedule_with_warmup(optimizer, warmup)


class GradualUnfreezing:
    """Top block first: every ``every`` steps one more depth of the backbone becomes trainable.

    Only parameters that were trainable when training began are touched, so it composes
    with strategies that freeze (adapters, frozen); ``restore`` puts the flags back.
    """

    def __init__(self, model: TaskModel, every: int) -> None:
        depths, n_blocks = parameter_depths(model)
        self.every = every
        self.top = n_blocks + 1
        self.params = [(p, depths[id(p)]) for p in model.backbone.parameters() if p.requires_grad]

    def apply(self, step: int) -> None:
        """Sets ``requires_grad`` for 0-based ``step``: depths above ``top - step // every`` train."""
        lowest = self.top - step // self.every
        for parameter, depth in self.params:
            parameter.requires_grad_(depth >= lowest)

    def restore(self) -> None:
        """Makes every originally trainable parameter trainable again."""
        for parameter, _ in self.params:
            parameter.requires_grad_(True)


def train_tasks(
    model: TaskModel, tasks: list[EncodedTask], strategy: Strategy, config: TrainConfig, *,
    pad_id: int, generator: torch.Generator, progress: bool = False, description: str = "", fault_point: str | None = None,
) -> TrainStats:
    """Trains ``model`` for ``config.epochs`` epochs on ``tasks`` with ``strategy``'s penalty.

    One task is the sequential case. Several tasks (the joint reference) are trained
    together: every batch comes from one task, and batches of all tasks are shuffled.

    Args:
        model: The (possibly strategy-wrapped) model.
        tasks: The task(s) to learn.
        strategy: Supplies the penalty added to the cross-entropy loss.
        config: Optimiser and schedule settings.
        pad_id: Padding token id.
        generator: Drives the batch order (seeded per run and task).
        progress: Show a tqdm bar.
        description: The bar's label.
        fault_point: Prefix of this call's fault-injection points (``<prefix>:step<k>``, see benchmark.faults).
    """
    device = model_device(model)
    schedule: list[tuple[EncodedTask, list[int]]] = []
    for _ in range(config.epochs):
        epoch = [(task, b) for task in tasks for b in train_batch_indices(task.train.lengths, config.batch_size, generator=generator, bucket_batches=config.bucket_batches)]
        order = torch.randperm(len(epoch), generator=generator).tolist() if len(tasks) > 1 else range(len(epoch))
        schedule.extend(epoch[i] for i in order)
    optimizer = torch.optim.AdamW(parameter_groups(model, tasks, config), weight_decay=config.weight_decay)
    scheduler = make_scheduler(optimizer, config, len(schedule))
    params = [p for group in optimizer.param_groups for p in group["params"]]
    unfreezing = GradualUnfreezing(model, config.unfreeze_every) if config.unfreeze_every > 0 else None
    model.train()
    loss_value = float("nan")
    bar = tqdm(total=len(schedule), desc=description, disable=not progress, leave=False, unit="step", dynamic_ncols=True)
    try:
        for step, (task, indices) in enumerate(schedule, 1):
            if unfreezing is not None:
                unfreezing.apply(step - 1)
            batch: dict[str, object] = {k: v.to(device) for k, v in task.train.batch(indices, pad_id).items()}
            batch["head"] = task.head
            with autocast(config.precision, device):
                logits = model(batch["input_ids"], batch["attention_mask"], task.head)
                loss = F.cross_entropy(logits.float(), batch["labels"])
                extra = strategy.penalty(model, batch, logits)
                if extra is not None:
                    loss = loss + extra
            loss_value = float(loss.detach())
            if not math.isfinite(loss_value):
                raise NumericalFault(task.name, step, loss_value)
            loss.backward()
            if config.max_grad_norm is not None:
                torch.nn.utils.clip_grad_norm_(params, config.max_grad_norm)
            optimizer.step()
            scheduler.step()
            optimizer.zero_grad(set_to_none=True)
            if fault_point is not None:
                faults.reached(f"{fault_point}:step{step}")
            bar.update()
            bar.set_postfix(loss=f"{loss_value:.3f}", refresh=False)
    finally:
        bar.close()
        if unfreezing is not None:
            unfreezing.restore()
    return TrainStats(steps=len(schedule), examples=sum(len(t.train) for t in tasks) * config.epochs, final_loss=loss_value)


def train_task(
    model: TaskModel, task: EncodedTask, strategy: Strategy, config: TrainConfig, *,
    pad_id: int, generator: torch.Generator, progress: bool = False, description: str = "",
) -> TrainStats:
    """Trains ``model`` on one task (see :func:`train_tasks`)."""
    return train_tasks(model, [task], strategy, config, pad_id=pad_id, generator=generator, progress=progress, description=description)
