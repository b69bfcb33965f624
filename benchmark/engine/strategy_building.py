"""Composing and building strategies: ``ewc+replay`` as one :class:`Composite`, and a spec string with its arguments made a strategy.

Apart from the contract (:mod:`benchmark.engine.strategy`) so that the contract's file
holds the hooks a strategy author reads, and this one how the suite assembles them.
"""

from __future__ import annotations

from typing import Any

import torch
from torch import nn

from benchmark.core.errors import UserError
from benchmark.core.keyword_arguments import checked_arguments, signature_of
from benchmark.core.strategy_spec import strategy_parts
from benchmark.engine.run_context import RunContext
from benchmark.engine.strategy import STRATEGIES, Batch, Strategy
from benchmark.engine.strategy_memory import MemoryProfile
from benchmark.model.backbones import Backbone
from benchmark.model.encoding import EncodedTask
from benchmark.model.task_model import TaskModel


class Composite(Strategy):
    """Several strategies at once: hooks run in order, penalties are summed."""

    def __init__(self, *, parts: list[Strategy]) -> None:
        self.parts = parts

    @property
    def needs_lm_head(self) -> bool:  # type: ignore[override] - any part that needs it
        return any(part.needs_lm_head for part in self.parts)

    def check_backbone(self, backbone: Backbone) -> None:
        for part in self.parts:
            part.check_backbone(backbone)

    def check_tasks(self, tasks: list[EncodedTask], backbone: Backbone, seed: int) -> None:
        for part in self.parts:
            part.check_tasks(tasks, backbone, seed)

    def bind(self, run: RunContext) -> None:
        super().bind(run)
        for part in self.parts:
            part.bind(run)

    def wrap_model(self, model: TaskModel) -> TaskModel:
        for part in self.parts:
            model = part.wrap_model(model)
        return model

    def after_sharding(self, model: TaskModel) -> None:
        for part in self.parts:
            part.after_sharding(model)

    def before_task(self, model: TaskModel, task: EncodedTask) -> None:
        for part in self.parts:
            part.before_task(model, task)

    def training_task(self, model: TaskModel, task: EncodedTask) -> EncodedTask:
        for part in self.parts:  # each part sees the examples the parts before it chose
            task = part.training_task(model, task)
        return task

    def penalty(self, model: TaskModel, batch: Batch, outputs: torch.Tensor) -> torch.Tensor | None:
        terms = [t for t in (part.penalty(model, batch, outputs) for part in self.parts) if t is not None]
        return torch.stack(terms).sum() if len(terms) > 1 else (terms[0] if terms else None)

    def adjust_gradients(self, model: TaskModel, params: list[nn.Parameter]) -> None:
        for part in self.parts:
            part.adjust_gradients(model, params)

    def after_task(self, model: TaskModel, task: EncodedTask) -> None:
        for part in self.parts:
            part.after_task(model, task)

    def record_extra(self) -> dict[str, Any]:
        return {key: value for part in self.parts for key, value in part.record_extra().items()}

    def state_dict(self) -> dict[str, Any]:
        return {str(i): part.state_dict() for i, part in enumerate(self.parts)}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        for i, part in enumerate(self.parts):
            part.load_state_dict(state[str(i)])

    def extra_memory_bytes(self) -> int:
        return sum(part.extra_memory_bytes() for part in self.parts)

    def memory_profile(self, batch_size: int) -> MemoryProfile:
        return sum((part.memory_profile(batch_size) for part in self.parts), MemoryProfile())

    def added_parameters(self, backbone: nn.Module, tasks: int) -> int:
        return sum(part.added_parameters(backbone, tasks) for part in self.parts)

    @property
    def trains_backbone(self) -> bool:  # type: ignore[override]
        return all(part.trains_backbone for part in self.parts)

    @property
    def shardable(self) -> bool:  # type: ignore[override]
        return all(part.shardable for part in self.parts)

    @property
    def formulations(self) -> tuple[str, ...] | None:  # type: ignore[override]
        declared = [part.formulations for part in self.parts if part.formulations is not None]
        if not declared:
            return None
        return tuple(f for f in declared[0] if all(f in other for other in declared[1:]))


def accepted_arguments(cls: type[Strategy]) -> list[str]:
    """Names of the keyword arguments a strategy's constructor accepts."""
    return signature_of(cls.__init__)[0]


def build_strategy(spec: str, strategy_args: dict[str, dict[str, Any]] | None = None) -> Strategy:
    """Instantiates ``spec`` ("naive", "ewc+replay") with per-part keyword arguments."""
    strategy_args = strategy_args or {}
    names = strategy_parts(spec)
    twice = sorted({name for name in names if names.count(name) > 1})
    if twice:
        raise UserError(f"strategy {spec!r} composes {twice[0]!r} twice; list each part once (its arguments are in strategy_args.{twice[0]})")
    parts: list[Strategy] = []
    for name in names:
        cls = STRATEGIES.get(name)
        kwargs = strategy_args.get(name) or {}
        if not isinstance(kwargs, dict):
            raise UserError(f"strategy_args.{name} must be a mapping of argument names to values, got {kwargs!r}")
        if not cls.checks_own_arguments:  # (a bridge checks its own against the library it wraps, with the same helper)
            accepted, hints = signature_of(cls.__init__)
            kwargs = checked_arguments(kwargs, accepted, hints, owner=f"strategy {name!r}", field=f"strategy_args.{name}", source="the config")
        try:
            parts.append(cls(**kwargs))
        except (TypeError, ValueError) as exc:
            raise UserError(f"strategy {name!r} rejected its arguments {kwargs} ({exc}); fix strategy_args.{name}") from exc
    if len(parts) > 1 and any(part.trainer() is not None for part in parts):
        raise UserError(f"strategy {spec!r} composes a strategy that trains with its own engine (avalanche:*); run it on its own")
    if len(parts) > 1 and any(part.joint for part in parts):
        raise UserError(f"strategy {spec!r} composes a joint (multitask) reference, which trains differently; run it on its own")
    return parts[0] if len(parts) == 1 else Composite(parts=parts)


def check_formulation(spec: str, formulation: str) -> None:
    """Raises a UserError if a part of strategy ``spec`` does not declare ``formulation`` among those it works in (checked before it is built)."""
    for name in strategy_parts(spec):
        allowed = STRATEGIES.get(name).formulations
        if allowed is not None and formulation not in allowed:
            raise UserError(
                f"strategy {name!r} works only in the {' and '.join(allowed)} formulation{'s' if len(allowed) > 1 else ''}, not with --formulation {formulation}; "
                f"run it with --formulation {allowed[0]} or leave it out"
            )
