"""The strategy contract: its hooks, all no-ops by default, plus the registry.

It lives in the engine, which never imports the ``strategies`` package (that package
re-exports it as ``strategies.base``).

A strategy changes training only through its hooks: it may wrap the model (adapters,
frozen weights), prepare before a task, choose the examples it trains on, add a penalty
tensor to the task loss, change a step's gradients, and update its state after a task.
It never calls ``backward()`` or ``step()``; the trainer does. Strategies compose:
``ewc+replay`` chains the hooks and sums penalties
(:mod:`benchmark.engine.strategy_building`).
"""

from __future__ import annotations

from typing import Any, ClassVar, Protocol

import torch
from torch import nn

from benchmark.model.backbones import Backbone
from benchmark.model.encoding import EncodedTask
from benchmark.core.registry import Registry
from benchmark.engine.run_context import RunContext
from benchmark.engine.strategy_memory import MemoryProfile, tensor_bytes
from benchmark.model.task_model import TaskModel

Batch = dict[str, Any]
"""A training (micro-)batch: ``input_ids``, ``attention_mask``, ``labels``, ``head`` and the 0-based optimizer ``step``."""


class TrainLoop(Protocol):
    """What trains a model on one task (or, for the joint reference, several): :func:`benchmark.engine.trainer.train_tasks`'s signature."""

    def __call__(
        self, model: TaskModel, tasks: list[EncodedTask], strategy: Strategy, config: Any, *, pad_id: int,
        generator: torch.Generator, progress: bool = False, description: str = "", fault_point: str | None = None,
        parallel: Any = None,
    ) -> Any: ...


class Strategy:
    """Base class of every strategy; subclasses override only the hooks they need.

    Constructors take keyword-only arguments whose names are the YAML keys under
    ``strategy_args.<name>`` (e.g. ``strategy_args: {ewc: {ewc_lambda: 100}}``).

    Attributes:
        joint: True for the multitask reference: the runner trains it once on all
            tasks together and evaluates it once at the end.
        reference: True for reference rows (bounds, not contenders) in leaderboards.
        trains_backbone: False for strategies that freeze the backbone (no gradients or
            optimizer state for it), for the memory estimate.
        resumable: False if the strategy's state cannot be checkpointed (an interrupted
            run then starts again instead of continuing).
        checks_own_arguments: True if the constructor takes ``**kwargs`` and validates
            them itself (the Avalanche bridge), instead of :func:`build_strategy`.
        formulations: The formulations (``heads``, ``text``, ...) the strategy works in; None: every one.
        needs_lm_head: True if it trains through the language-model head (an LM loss,
            LM logits); refused, before any work, on a model that has none.
        shardable: True if it runs with the model sharded over processes (``--sharding
            fsdp``): state shaped like the parameters is cut like them in
            :meth:`after_sharding`, and every forward pass it makes is made by every process.

    A strategy whose :meth:`trainer` returns a training loop trains with that loop
    instead of forgetbench's trainer; only the Avalanche bridge does.
    """

    joint: ClassVar[bool] = False
    reference: ClassVar[bool] = False
    trains_backbone: ClassVar[bool] = True
    resumable: ClassVar[bool] = True
    checks_own_arguments: ClassVar[bool] = False
    formulations: ClassVar[tuple[str, ...] | None] = None
    needs_lm_head: ClassVar[bool] = False
    shardable: ClassVar[bool] = False

    def check_backbone(self, backbone: Backbone) -> None:
        """Raises a UserError, before any work, if the strategy's arguments cannot apply to ``backbone``.

        Called once per suite after the backbone is loaded (a LoRA target module the model
        does not have, say), so that such a mistake never surfaces mid-run.
        """

    def check_tasks(self, tasks: list[EncodedTask], backbone: Backbone, seed: int) -> None:
        """Raises a UserError, before any work, if the strategy cannot run on these encoded tasks (one order and seed).

        Called once per (order, seed) of a suite after its tasks are encoded (in-context
        demonstrations that would not fit the model's positions, say).
        """

    def bind(self, run: RunContext) -> None:
        """Called once per run before :meth:`wrap_model`; keeps the run context."""
        self.run = run

    def trainer(self) -> TrainLoop | None:
        """The training loop that replaces the engine's for this strategy, or None (the engine's own)."""
        return None

    def wrap_model(self, model: TaskModel) -> TaskModel:
        """Returns the model to train (e.g. with adapters inserted or weights frozen)."""
        return model

    def after_sharding(self, model: TaskModel) -> None:
        """Called once per run after :meth:`wrap_model` when the model was sharded (``--sharding fsdp``).

        Every parameter is then a DTensor holding this process's part; state kept per
        parameter (anchors, importance weights) is to be cut the same way here
        (:func:`benchmark.engine.sharding.local`).
        """

    def before_task(self, model: TaskModel, task: EncodedTask) -> None:
        """Prepares for training on ``task``."""

    def training_task(self, model: TaskModel, task: EncodedTask) -> EncodedTask:
        """The examples to train on for ``task``, after :meth:`before_task` (by default ``task`` itself).

        A strategy that trains on other examples than the task's own returns a copy with
        another training split: soft prompts put before every prompt (progressive_prompts),
        generated examples of earlier tasks mixed in (lamol). The test split and every
        other hook still see ``task``; the copy is made again, the same, when a run resumes.
        """
        return task

    def penalty(self, model: TaskModel, batch: Batch, outputs: torch.Tensor) -> torch.Tensor | None:
        """A tensor added to the task loss of this batch (``outputs`` are the class logits), or None.

        With several processes or accumulation micro-batches, it is called once per
        micro-batch and weighted by the micro-batch's share of the step's batch; any
        randomness must come from a generator seeded by the run (every process must draw
        the same), not from torch's global RNG.
        """
        return None

    def adjust_gradients(self, model: TaskModel, params: list[nn.Parameter]) -> None:
        """Changes an optimizer step's gradients in place before they are clipped and applied (A-GEM's projection).

        Called once per optimizer step on every process, after the step's gradients have
        been accumulated (and reduced over processes); ``params`` are the parameters the
        optimizer updates. The loss is :meth:`penalty`'s to change; this is for methods
        that act on the gradient itself.
        """

    def after_task(self, model: TaskModel, task: EncodedTask) -> None:
        """Updates the strategy's state once training on ``task`` is done."""

    def record_extra(self) -> dict[str, Any]:
        """Facts about the run the strategy reports in its record (``extra.strategy``); JSON-serialisable, empty by default.

        For what a reader of the record needs to judge the run, and that no measure holds
        (how many of LAMOL's generated examples parsed, say).
        """
        return {}

    def state_dict(self) -> dict[str, Any]:
        """Tensors and values the strategy accumulates across tasks (Fisher, buffer, anchors)."""
        return {}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        """Restores what :meth:`state_dict` returned."""

    def extra_memory_bytes(self) -> int:
        """Bytes the strategy holds beyond the model it trains (by default: its state's tensors)."""
        return tensor_bytes(self.state_dict())

    def memory_profile(self, batch_size: int) -> MemoryProfile:
        """What the strategy adds to a run's peak memory (for the check before a run); ``batch_size`` is the training batch."""
        return MemoryProfile()

    def added_parameters(self, backbone: nn.Module, tasks: int) -> int:
        """Parameters of the modules the strategy adds to ``backbone`` over a run of ``tasks`` tasks (LoRA, adapters).

        Counted from the backbone's structure for the memory plan (a model on the meta
        device will do); 0 for a strategy that adds none.
        """
        return 0


STRATEGIES: Registry[type[Strategy]] = Registry(
    "strategy", where="--strategies", builtin_modules=("strategies",), entry_point_group="forgetbench.strategies"
)
register_strategy = STRATEGIES.register
