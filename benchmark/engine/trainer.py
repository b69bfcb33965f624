"""Training on a task (or, for the joint reference, on several at once).

Every update goes through :mod:`benchmark.engine.stepping`, the one module that calls
``backward()`` and an optimizer's ``step()`` (a test checks every other module); the
measures that fine-tune a copy of the model use the same step
(:mod:`benchmark.engine.finetune`), so the run's processes, gradient clipping, mixed
precision and loss scaling apply there too. The loss is
the task loss of the batch plus whatever the strategy's ``penalty`` returns. The
model and the optimizer go through ``accelerate`` (:mod:`benchmark.engine.parallel`): with
several processes the model is DistributedDataParallel, each optimizer step's batch
is shared out between processes and accumulation micro-batches
(:func:`benchmark.model.batching.micro_batches`), and mixed precision scales the loss.
The objective itself (the task loss, the optimiser's parameter groups with
discriminative layer-wise learning rates, the warm-up + linear decay schedule) is
:mod:`benchmark.engine.objective`; gradual unfreezing lives here.
"""

from __future__ import annotations

import contextlib
import math
import time
from dataclasses import dataclass

import torch
from tqdm.auto import tqdm

from benchmark.core import faults
from benchmark.model.batching import micro_batches, train_batch_indices
from benchmark.core.config import TrainConfig
from benchmark.model.encoding import EncodedTask
from benchmark.engine.evaluation import autocast, model_device
from benchmark.engine.frozen_layers import lower_layers_frozen
from benchmark.engine.parallel import Parallel, make_parallel
from benchmark.engine.sharding import is_sharded, release_gathered
from benchmark.engine.stepping import backward, optimizer_step
from benchmark.engine.tracking import is_tracked, report_step
from benchmark.model.layers import parameter_depths
from benchmark.model.task_model import TaskModel
from benchmark.engine.objective import make_scheduler, parameter_groups, task_loss
from benchmark.engine.strategy import Strategy


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


class TrainingStep(torch.nn.Module):
    """One micro-batch's loss (:func:`task_loss` plus the strategy's penalty) as a module.

    This is what ``Accelerator.prepare`` wraps in DistributedDataParallel: a penalty may
    touch any parameter (EWC's anchors, replayed batches through other heads), and DDP
    only handles parameters used inside the forward it wraps.
    """

    def __init__(self, model: TaskModel, strategy: Strategy) -> None:
        super().__init__()
        self.model = model
        self.strategy = strategy

    def forward(self, batch: dict[str, object], head: str) -> torch.Tensor:
        loss, logits = task_loss(self.model, batch, head)  # text: the penalty sees the answer positions' vocabulary logits
        release_gathered(self.model)  # sharded: the penalty sees every parameter as this process's part
        extra = self.strategy.penalty(self.model, batch, logits)
        self.parts = (loss.detach(), None if extra is None else extra.detach())  # for the trackers, read only when tracked
        return loss if extra is None else loss + extra


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
    parallel: Parallel | None = None,
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
        generator: Drives the batch order (seeded per run and task; equal on every process).
        progress: Show a tqdm bar.
        description: The bar's label.
        fault_point: Prefix of this call's fault-injection points (``<prefix>:step<k>``, see benchmark.core.faults).
        parallel: The run's processes (default: this process alone).
    """
    with lower_layers_frozen(model, config.freeze_layers):
        return _train(model, tasks, strategy, config, pad_id=pad_id, generator=generator, progress=progress,
                      description=description, fault_point=fault_point, parallel=parallel)


def _train(
    model: TaskModel, tasks: list[EncodedTask], strategy: Strategy, config: TrainConfig, *,
    pad_id: int, generator: torch.Generator, progress: bool, description: str, fault_point: str | None, parallel: Parallel | None,
) -> TrainStats:
    """:func:`train_tasks` once the lower layers are frozen."""
    if not any(p.requires_grad for p in model.parameters()):
        # Nothing to train (frozen or icl in the text formulation, which have no heads).
        return TrainStats(steps=0, examples=0, final_loss=float("nan"))
    parallel = parallel or make_parallel(model_device(model).type, config.precision)
    accelerator = parallel.accelerator
    schedule = batch_schedule(tasks, config, generator)
    step_module = TrainingStep(model, strategy)
    # The model is placed by the harness (a single-process run may ask for cuda:1), not by accelerate. A sharded
    # model reduces its own gradients (FSDP), so it is not wrapped in DistributedDataParallel.
    sharded = is_sharded(model)
    release_gathered(model)  # an evaluation may have left the root's weights gathered, outside autograd
    distributed = step_module if sharded else accelerator.prepare_model(step_module, device_placement=False)
    optimizer = accelerator.prepare_optimizer(
        torch.optim.AdamW(parameter_groups(model, tasks, config), weight_decay=config.weight_decay), device_placement=False,
    )
    scheduler = make_scheduler(optimizer.optimizer, config, len(schedule))
    params = [p for group in optimizer.param_groups for p in group["params"]]
    unfreezing = GradualUnfreezing(model, config.unfreeze_every) if config.unfreeze_every > 0 else None
    model.train()
    loss_value = float("nan")
    bar = tqdm(total=len(schedule), desc=description, disable=not progress or not parallel.is_main, leave=False, unit="step", dynamic_ncols=True)
    try:
        for step, (task, indices) in enumerate(schedule, 1):
            if unfreezing is not None:
                unfreezing.apply(step - 1)
            started = time.perf_counter()
            loss_value, parts, tokens = accumulate_gradients(distributed, task, indices, step, config, pad_id=pad_id, parallel=parallel)
            strategy.adjust_gradients(model, params)
            lr = scheduler.get_last_lr()[0]
            norm = optimizer_step(optimizer, scheduler, params, config.max_grad_norm, parallel)
            if is_tracked():  # the values (and the norm's device sync) only for a run's trackers
                report_step(step_values(loss_value, parts, lr, norm, tokens, time.perf_counter() - started))
            if fault_point is not None:
                faults.reached(f"{fault_point}:step{step}")
            bar.update()
            bar.set_postfix(loss=f"{loss_value:.3f}", refresh=False)
    finally:
        bar.close()
        if unfreezing is not None:
            unfreezing.restore()
        accelerator.unwrap_model(distributed, keep_fp32_wrapper=False)  # undoes accelerate's autocast patch of forward
        parallel.release_training_state()
    return TrainStats(steps=len(schedule), examples=sum(len(t.train) for t in tasks) * config.epochs, final_loss=loss_value)


def batch_schedule(tasks: list[EncodedTask], config: TrainConfig, generator: torch.Generator) -> list[tuple[EncodedTask, list[int]]]:
    """Every optimizer step's (task, example indices), epoch after epoch; several tasks' batches are shuffled together."""
    schedule: list[tuple[EncodedTask, list[int]]] = []
    for _ in range(config.epochs):
        epoch = [
            (task, b) for task in tasks
            for b in train_batch_indices(task.train.lengths, config.batch_size, generator=generator, bucket_batches=config.bucket_batches)
        ]
        order = torch.randperm(len(epoch), generator=generator).tolist() if len(tasks) > 1 else range(len(epoch))
        schedule.extend(epoch[i] for i in order)
    return schedule


def accumulate_gradients(
    distributed: torch.nn.Module, task: EncodedTask, indices: list[int], step: int, config: TrainConfig, *, pad_id: int, parallel: Parallel,
) -> tuple[float, dict[str, float], int]:
    """Backpropagates this process's micro-batches of one optimizer step's batch.

    Returns:
        The step's loss; when the run is tracked its task loss and penalty parts and the tokens seen (else empty and 0).

    Raises:
        NumericalFault: On every process at once, when any process's loss is not finite.
    """
    accelerator = parallel.accelerator
    device = model_device(distributed)
    shares = micro_batches(indices, processes=parallel.processes, rank=parallel.index, accumulation=config.grad_accum_steps)
    loss_value, tokens = 0.0, 0
    parts: dict[str, float] = {}
    watched = is_tracked()
    for k, (micro, weight) in enumerate(shares, 1):
        # Gradients are all-reduced once per optimizer step, on each process's last micro-batch.
        sync = contextlib.nullcontext() if k == len(shares) else accelerator.no_sync(distributed)
        with sync:
            batch: dict[str, object] = {key: v.to(device) for key, v in task.train.batch(micro, pad_id).items()}
            batch["head"], batch["step"] = task.head, step - 1
            with autocast(config.precision, device):
                loss = distributed(batch, task.head)
                if weight != 1.0:
                    loss = loss * weight
            value = float(loss.detach())
            if parallel.any(not math.isfinite(value)):  # every process stops, none waits in an all-reduce
                raise NumericalFault(task.name, step, value if not math.isfinite(value) else float("nan"))
            backward(loss, parallel)
        loss_value += value
        if watched:
            tokens += int(batch["attention_mask"].sum())
            task_part, penalty = getattr(distributed, "module", distributed).parts
            parts["task_loss"] = parts.get("task_loss", 0.0) + float(task_part) * weight
            if penalty is not None:
                parts["penalty"] = parts.get("penalty", 0.0) + float(penalty) * weight
    return loss_value, parts, tokens


def step_values(
    loss: float, parts: dict[str, float], lr: float, norm: torch.Tensor | None, tokens: int, seconds: float,
) -> dict[str, float]:
    """What the trackers are told of one optimizer step (this process's share of its tokens)."""
    values = {"loss": loss, **parts, "lr": lr, "tokens_per_second": tokens / max(seconds, 1e-9)}
    return values if norm is None else {**values, "grad_norm": float(norm)}


def train_task(
    model: TaskModel, task: EncodedTask, strategy: Strategy, config: TrainConfig, *,
    pad_id: int, generator: torch.Generator, progress: bool = False, description: str = "",
) -> TrainStats:
    """Trains ``model`` on one task (see :func:`train_tasks`)."""
    return train_tasks(model, [task], strategy, config, pad_id=pad_id, generator=generator, progress=progress, description=description)
