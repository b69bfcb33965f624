"""The training objective every loop shares: the task loss, the optimiser's parameter groups and the schedule.

The trainer (:mod:`benchmark.engine.trainer`), the recovery measures and the Avalanche
bridge read it from here, so none of them has to import the trainer (which imports
the strategy contract) for it.
"""

from __future__ import annotations

import math

import torch
from transformers import get_constant_schedule_with_warmup, get_linear_schedule_with_warmup

from benchmark.core.config import TrainConfig
from benchmark.engine.formulations import formulation
from benchmark.model.encoding import EncodedTask
from benchmark.model.layers import parameter_depths
from benchmark.model.task_model import TaskModel


def parameter_groups(model: TaskModel, tasks: list[EncodedTask], config: TrainConfig) -> list[dict[str, object]]:
    """Optimiser groups: trainable backbone/strategy parameters at ``lr`` (or layer-wise), heads at ``head_lr``.

    Only the heads of ``tasks`` are optimised, so weight decay never touches the heads
    of other tasks. A module a strategy adds may set ``own_learning_rate`` (soft prompts
    learn at rates far above a model's): its trainable parameters form a group of their own.
    """
    head_names = {task.head for task in tasks if task.head in model.heads}  # none in the text formulation
    all_head_ids = {id(p) for head in model.heads.values() for p in head.parameters()}
    heads = [p for name in sorted(head_names) for p in model.heads[name].parameters() if p.requires_grad]
    own = own_rate_groups(model)
    apart = all_head_ids | {id(p) for group in own for p in group["params"]}
    body = [p for p in model.parameters() if p.requires_grad and id(p) not in apart]
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
    if heads:  # the text formulation has none
        groups.append({"params": heads, "lr": config.head_lr})
    return groups + own


def own_rate_groups(model: torch.nn.Module) -> list[dict[str, object]]:
    """One optimiser group per module that sets ``own_learning_rate``: its trainable parameters at that rate."""
    groups = []
    for module in model.modules():
        rate = getattr(module, "own_learning_rate", None)
        params = [p for p in module.parameters() if p.requires_grad] if rate is not None else []
        if params:
            groups.append({"params": params, "lr": float(rate)})
    return groups


def make_scheduler(optimizer: torch.optim.Optimizer, config: TrainConfig, total_steps: int) -> torch.optim.lr_scheduler.LambdaLR:
    """Warm-up then linear decay to zero (or constant), from transformers' schedules."""
    warmup = int(math.ceil(config.warmup_ratio * total_steps))
    if config.schedule == "linear":
        return get_linear_schedule_with_warmup(optimizer, warmup, total_steps)
    return get_constant_schedule_with_warmup(optimizer, warmup)


def task_loss(model: TaskModel, batch: dict[str, object], head: str) -> tuple[torch.Tensor, torch.Tensor]:
    """A batch's plain task objective and the logits it came from (no strategy penalty).

    The model's formulation defines it (:meth:`Formulation.loss`): with heads the
    cross-entropy over the head's classes, posed as text the answer tokens' loss.
    """
    return formulation(model.formulation).loss(model, batch, head)
