"""Avalanche strategies driven by forgetbench's optimiser, schedule, batches and checks.

Each supported Avalanche strategy class is subclassed with :class:`ForgetbenchTraining`
mixed in, which replaces what would otherwise differ from a native run:

- the optimiser: forgetbench's AdamW groups (backbone ``lr``, task head ``head_lr``),
  rebuilt for every experience. Avalanche's own ``make_optimizer`` would put every
  model parameter into the first parameter group on the first experience;
- the schedule (warm-up + linear decay over the experience's steps) and gradient
  clipping (``max_grad_norm``), as in :func:`benchmark.engine.trainer.train_tasks`;
- the current experience's batches (:class:`ForgetbenchBatches`), unless a plugin
  replaces the loader (Replay does);
- a NaN or infinite loss raises :class:`NumericalFault`, and fault-injection points
  fire after every step, as in native runs.

Everything else (penalties, memories, gradient projections, distillation) is Avalanche's.
"""

from __future__ import annotations

import inspect
import math
from typing import Any

import torch
from avalanche import training as avalanche_training
from avalanche.logging import BaseLogger
from avalanche.training.plugins import EvaluationPlugin

from benchmark.core import faults
from strategies.avalanche.data import ForgetbenchBatches, task_labels_of, train_experiences
from strategies.avalanche.model import AvalancheTaskModel
from benchmark.core.config import TrainConfig
from benchmark.model.encoding import EncodedTask
from benchmark.model.task_model import TaskModel
from benchmark.engine.objective import make_scheduler, parameter_groups
from benchmark.engine.trainer import NumericalFault, TrainStats

# forgetbench name -> class in avalanche.training
AVALANCHE_CLASSES = {
    "Naive": "Naive", "EWC": "EWC", "LwF": "LwF", "Replay": "Replay", "SI": "SynapticIntelligence",
    "MAS": "MAS", "GEM": "GEM", "AGEM": "AGEM",
}  # Not bridged: GDumb and Cumulative train on a buffer or a union, which forgetbench's batch order would bypass.

# Constructor arguments the bridge supplies; users set only the strategy's own hyper-parameters.
BRIDGE_ARGUMENTS = frozenset({
    "model", "optimizer", "criterion", "train_mb_size", "train_epochs", "eval_mb_size", "device", "plugins",
    "evaluator", "eval_every", "peval_mode",
})


def avalanche_class(name: str) -> type:
    """The Avalanche strategy class behind ``avalanche:<name>``."""
    return getattr(avalanche_training, AVALANCHE_CLASSES[name])


def hyperparameters(name: str) -> dict[str, inspect.Parameter]:
    """The constructor arguments of ``avalanche:<name>`` a config may set, by name."""
    parameters = inspect.signature(avalanche_class(name).__init__).parameters
    return {
        key: p for key, p in parameters.items()
        if key != "self" and key not in BRIDGE_ARGUMENTS and p.kind in (p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY)
    }


def _held_bytes(value: object, seen: set[int], depth: int) -> int:
    """Bytes of the distinct tensors reachable from ``value`` (containers, modules, Avalanche objects)."""
    if isinstance(value, torch.Tensor):
        key = value.untyped_storage().data_ptr()
        if key in seen:
            return 0
        seen.add(key)
        return value.untyped_storage().nbytes()
    if depth == 0:
        return 0
    if isinstance(value, torch.nn.Module):
        return sum(_held_bytes(t, seen, depth - 1) for t in [*value.parameters(), *value.buffers()])
    if isinstance(value, dict):
        return sum(_held_bytes(v, seen, depth - 1) for v in value.values())
    if isinstance(value, (list, tuple)):
        return sum(_held_bytes(v, seen, depth - 1) for v in value)
    if type(value).__module__.startswith("avalanche") and hasattr(value, "__dict__"):
        return _held_bytes(vars(value), seen, depth - 1)
    return 0


class _Silent(BaseLogger):
    """Avalanche warns without a logger and prints with its default one; this one records nothing."""


class ForgetbenchTraining:
    """Mixin (first in the MRO) that makes an Avalanche strategy train like forgetbench's trainer."""

    fb_tasks: list[EncodedTask]
    fb_labels: dict[str, int]
    fb_config: TrainConfig
    fb_model: TaskModel
    fb_pad_id: int
    fb_generator: torch.Generator
    fb_fault_point: str | None
    fb_steps: int

    def _fb_task(self) -> EncodedTask:
        return self.fb_tasks[self.experience.current_experience]

    def make_train_dataloader(self, **kwargs: Any) -> None:
        task = self._fb_task()
        self.dataloader = ForgetbenchBatches(task, self.fb_labels[task.head], self.fb_config, self.fb_pad_id, self.fb_generator)

    def make_optimizer(self, **kwargs: Any) -> None:
        groups = parameter_groups(self.fb_model, [self._fb_task()], self.fb_config)
        self.optimizer = torch.optim.AdamW(groups, weight_decay=self.fb_config.weight_decay)
        self.optimized_param_id = {}  # not None: Avalanche's first-experience reset is not wanted
        self._fb_scheduler = None

    def _before_training_epoch(self, **kwargs: Any) -> None:
        if self._fb_scheduler is None:  # plugins may have replaced the loader in before_training_exp
            total = len(self.dataloader) * self.train_epochs
            self._fb_scheduler = make_scheduler(self.optimizer, self.fb_config, total)
        super()._before_training_epoch(**kwargs)

    def backward(self) -> None:
        self.fb_steps += 1
        value = float(self.loss.detach())
        if not math.isfinite(value):
            raise NumericalFault(self._fb_task().name, self.fb_steps, value)
        super().backward()

    def optimizer_step(self) -> None:
        if self.fb_config.max_grad_norm is not None:
            params = [p for group in self.optimizer.param_groups for p in group["params"]]
            torch.nn.utils.clip_grad_norm_(params, self.fb_config.max_grad_norm)
        super().optimizer_step()
        self._fb_scheduler.step()

    def _after_training_iteration(self, **kwargs: Any) -> None:
        super()._after_training_iteration(**kwargs)
        if self.fb_fault_point is not None:
            faults.reached(f"{self.fb_fault_point}:step{self.fb_steps}")


class AvalancheRun:
    """One run's Avalanche strategy: built once, trained one experience per forgetbench task.

    Args:
        name: The Avalanche strategy (a key of ``AVALANCHE_CLASSES``).
        arguments: Its hyper-parameters (checked against its constructor).
        model: The forgetbench model (trained in place).
        tasks: All tasks of the run, in order.
        config: Training settings (batch size, epochs, optimiser, schedule).
        pad_id: Padding token id.
        device: Where the model lives.
    """

    def __init__(self, name: str, arguments: dict[str, Any], model: TaskModel, tasks: list[EncodedTask],
                 config: TrainConfig, pad_id: int, device: torch.device) -> None:
        labels = task_labels_of(tasks)
        self.experiences = train_experiences(tasks, pad_id)
        self.wrapper = AvalancheTaskModel(model, list(labels))
        cls = avalanche_class(name)
        bridged = type(f"Forgetbench{cls.__name__}", (ForgetbenchTraining, cls), {})
        placeholder = torch.optim.AdamW(parameter_groups(model, tasks[:1], config))  # replaced per experience
        self.strategy = bridged(
            model=self.wrapper, optimizer=placeholder, criterion=torch.nn.CrossEntropyLoss(),
            train_mb_size=config.batch_size, train_epochs=config.epochs, eval_mb_size=config.batch_size,
            device=device, evaluator=EvaluationPlugin(loggers=[_Silent()]), **arguments,
        )
        self.strategy.fb_tasks, self.strategy.fb_labels, self.strategy.fb_config = tasks, labels, config
        self.strategy.fb_model, self.strategy.fb_pad_id = model, pad_id

    def extra_bytes(self) -> int:
        """Bytes of the tensors Avalanche's plugins hold (importances, anchors, memories, previous models)."""
        seen: set[int] = set()
        return sum(_held_bytes(vars(plugin), seen, depth=6) for plugin in self.strategy.plugins)

    def train(self, task: EncodedTask, generator: torch.Generator, fault_point: str | None) -> TrainStats:
        """Trains on ``task`` (its experience) with batches drawn from ``generator``."""
        self.strategy.fb_generator, self.strategy.fb_fault_point, self.strategy.fb_steps = generator, fault_point, 0
        self.strategy.train(self.experiences[task.index])
        return TrainStats(steps=self.strategy.fb_steps, examples=len(task.train) * self.strategy.train_epochs,
                          final_loss=float(self.strategy.loss.detach()))
