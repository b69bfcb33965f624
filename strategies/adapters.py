"""``adapters``: bottleneck adapters after attention and feed-forward, backbone frozen (Houlsby et al. 2019)."""

from __future__ import annotations

import re
from typing import Any

import torch
from torch import nn

from benchmark.core.hashing import derived_seed
from benchmark.model.encoding import EncodedTask
from benchmark.core.errors import UserError
from benchmark.model.task_model import TaskModel, hidden_size
from strategies.adapter_modules import AdapterSlot, Bottleneck
from strategies.base import Strategy, register_strategy

# Output projections of the attention and feed-forward sub-layers, by model type.
DEFAULT_TARGETS = {
    "llama": [r"\.self_attn\.o_proj$", r"\.mlp\.down_proj$"],
    "mistral": [r"\.self_attn\.o_proj$", r"\.mlp\.down_proj$"],
    "qwen2": [r"\.self_attn\.o_proj$", r"\.mlp\.down_proj$"],
    "gpt2": [r"\.attn\.c_proj$", r"\.mlp\.c_proj$"],
    "bert": [r"\.attention\.output\.dense$", r"\.layer\.\d+\.output\.dense$"],
    "roberta": [r"\.attention\.output\.dense$", r"\.layer\.\d+\.output\.dense$"],
    "t5": [r"\.SelfAttention\.o$", r"\.EncDecAttention\.o$", r"\.DenseReluDense$"],  # T5 reads wo.weight: wrap the whole feed-forward
}


@register_strategy("adapters")
class Adapters(Strategy):
    """Houlsby bottleneck adapters with the backbone frozen; ``per_task: true`` keeps one set per task.

    Each adapter is Linear-down, SiLU, Linear-up with a skip connection, placed on the
    output of the attention and of the feed-forward block of every layer. Per-task
    sets are switched by the task being scored, so earlier tasks cannot be forgotten;
    a shared set (``per_task: false``) is trained by every task in turn.
    """

    trains_backbone = False

    def __init__(self, *, bottleneck: int = 64, per_task: bool = True, targets: list[str] | None = None) -> None:
        if bottleneck < 1:
            raise ValueError("bottleneck must be at least 1")
        self.bottleneck, self.per_task, self.targets = bottleneck, per_task, targets
        self.slots: list[AdapterSlot] = []

    @property
    def shardable(self) -> bool:  # type: ignore[override]
        # One shared set is in place before the model is sharded; per-task sets would be added to a sharded model later.
        return not self.per_task

    def added_parameters(self, backbone: nn.Module, tasks: int) -> int:
        slots = len(self.insertion_points(backbone, self.targets or DEFAULT_TARGETS.get(backbone.config.model_type, [])))
        width = hidden_size(backbone)
        per_slot = 2 * width * self.bottleneck + self.bottleneck + width  # down and up projections with biases
        return slots * per_slot * (tasks if self.per_task else 1)

    def wrap_model(self, model: TaskModel) -> TaskModel:
        model_type = model.backbone.config.model_type
        patterns = self.targets or DEFAULT_TARGETS.get(model_type)
        if not patterns:
            raise UserError(f"adapters has no default insertion points for model type {model_type!r}; set strategy_args.adapters.targets to regexes of module names")
        for parameter in model.backbone.parameters():
            parameter.requires_grad_(False)
        names = self.insertion_points(model.backbone, patterns)
        if not names:
            raise UserError(f"adapters found no module matching {patterns} in the {model_type} backbone; fix strategy_args.adapters.targets")
        for name in names:
            parent_name, _, child = name.rpartition(".")
            parent = model.backbone.get_submodule(parent_name)
            slot = AdapterSlot(getattr(parent, child), model.router, per_task=self.per_task)
            setattr(parent, child, slot)
            self.slots.append(slot)
        self.width = hidden_size(model.backbone)
        if not self.per_task:
            self.add_set(AdapterSlot.SHARED)
        return model

    @staticmethod
    def insertion_points(backbone: nn.Module, patterns: list[str]) -> list[str]:
        """Names of the backbone's modules an adapter follows: those matching any of ``patterns``."""
        return [n for n, _ in backbone.named_modules() if any(re.search(p, n) for p in patterns)]

    def add_set(self, key: str) -> None:
        """Adds one adapter per slot under ``key`` (seeded by run seed and key)."""
        generator = torch.Generator().manual_seed(derived_seed(self.run.seed, "adapters", key))
        base = next(iter(self.slots[0].base.parameters()))
        for slot in self.slots:  # drawn in float32 (the same draw at every --dtype), then stored like the backbone
            slot.adapters[key] = Bottleneck(self.width, self.bottleneck, generator).to(device=base.device, dtype=base.dtype)

    def before_task(self, model: TaskModel, task: EncodedTask) -> None:
        if self.per_task and task.head not in self.slots[0].adapters:
            self.add_set(task.head)
        for slot in self.slots:
            for key, adapter in slot.adapters.items():
                adapter.requires_grad_(key == task.head or not self.per_task)

    def state_dict(self) -> dict[str, Any]:
        # The adapter weights travel with the model's; the strategy only records which sets exist.
        return {"sets": sorted(self.slots[0].adapters) if self.slots else []}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        for key in state["sets"]:
            if key not in self.slots[0].adapters:
                self.add_set(key)

    def extra_memory_bytes(self) -> int:
        return sum(p.numel() * p.element_size() for slot in self.slots for p in slot.adapters.parameters())
