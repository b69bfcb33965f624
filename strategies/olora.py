"""``olora``: orthogonal low-rank adaptation (O-LoRA, Wang et al., Findings of EMNLP 2023)."""

from __future__ import annotations

from typing import Any

import torch
from torch import nn

from benchmark.core.hashing import derived_seed
from benchmark.model.encoding import EncodedTask
from benchmark.model.task_model import TaskModel
from strategies.base import Batch, MemoryProfile, Strategy, register_strategy
from strategies.lora import LoRA


@register_strategy("olora")
class OLoRA(Strategy):
    """A new LoRA set per task, earlier sets frozen but kept in the forward pass, kept orthogonal to the new one.

    The loss adds ``lambda_1`` x sum over target modules and earlier sets s of
    sum |A_s A_t^T| (every entry of the product of the earlier set's and the current
    set's down-projections, as O-LoRA's trainer computes it over the concatenated earlier
    sets), and ``lambda_2`` x the L2 norm (not squared) of each of the current set's
    matrices. Every set learned so far adds its update in every forward pass, for every
    task and for language modelling: O-LoRA is one model, used without task identity.
    The defaults are O-LoRA's scripts' (r 8, lora_alpha 32, dropout 0.1 as in its
    LoraConfig; lambda_1 0.5 and lambda_2 0 in its order-1 scripts) on peft's default
    target modules (the query and value projections). Differences: O-LoRA concatenates the
    earlier sets into one matrix of growing rank, here each set stays its own peft adapter
    with its own lora_alpha / r scaling (the same sum of updates); its learning rate and
    schedule (1e-3, constant) are the suite's ``train`` settings.
    """

    trains_backbone = False

    def __init__(
        self, *, r: int = 8, lora_alpha: int = 32, lora_dropout: float = 0.1, lambda_1: float = 0.5, lambda_2: float = 0.0,
        target_modules: list[str] | None = None,
    ) -> None:
        if r < 1 or lora_dropout < 0 or lambda_1 < 0 or lambda_2 < 0:
            raise ValueError("r must be >= 1 and lora_dropout, lambda_1 and lambda_2 >= 0")
        self.sets = LoRA(r=r, lora_alpha=lora_alpha, lora_dropout=lora_dropout, per_task=True, target_modules=target_modules)
        self.lambda_1, self.lambda_2 = lambda_1, lambda_2
        self.order: list[str] = []  # the sets, oldest first

    def check_backbone(self, backbone: Any) -> None:
        self.sets.check_backbone(backbone)

    def bind(self, run: Any) -> None:
        super().bind(run)
        self.sets.bind(run)

    def wrap_model(self, model: TaskModel) -> TaskModel:
        from peft import get_peft_model

        first = self.run.tasks[0].head
        with torch.random.fork_rng(devices=[]):  # A matrices seeded by (seed, set), as lora's
            torch.manual_seed(derived_seed(self.run.seed, "lora", first))
            model.backbone = get_peft_model(model.backbone, self.sets.config(), adapter_name=first)
        self.peft_model = model.backbone
        self.order = [first]
        return model

    def before_task(self, model: TaskModel, task: EncodedTask) -> None:
        if task.head not in self.peft_model.peft_config:
            with torch.random.fork_rng(devices=[]):
                torch.manual_seed(derived_seed(self.run.seed, "lora", task.head))
                self.peft_model.add_adapter(task.head, self.sets.config())
            self.order.append(task.head)
        self.activate(current=task.head)

    def activate(self, current: str | None) -> None:
        """Every set so far in the forward pass; only ``current`` trainable (None: none)."""
        self.peft_model.base_model.set_adapter(list(self.order))
        for name, parameter in self.peft_model.named_parameters():
            if "lora_" in name:
                parameter.requires_grad_(current is not None and f".{current}." in name)

    def after_task(self, model: TaskModel, task: EncodedTask) -> None:
        self.activate(current=None)  # the finished set is frozen from now on

    def penalty(self, model: TaskModel, batch: Batch, outputs: torch.Tensor) -> torch.Tensor | None:
        current = self.order[-1]
        earlier = self.order[:-1]
        terms = []
        if self.lambda_1 and earlier:
            terms.append(self.lambda_1 * sum(
                torch.abs(layer.lora_A[old].weight @ layer.lora_A[current].weight.T).sum()
                for layer in self.lora_layers() for old in earlier
            ))
        if self.lambda_2:
            terms.append(self.lambda_2 * sum(
                torch.linalg.norm(module[current].weight) for layer in self.lora_layers() for module in (layer.lora_A, layer.lora_B)
            ))
        return sum(terms) if terms else None

    def lora_layers(self) -> list[nn.Module]:
        """peft's LoRA layers of the backbone (each holds every set's A and B)."""
        return [m for m in self.peft_model.modules() if hasattr(m, "lora_A") and isinstance(m.lora_A, nn.ModuleDict) and len(m.lora_A)]

    def state_dict(self) -> dict[str, Any]:
        return {"adapters": list(self.order)}  # the weights travel with the model's

    def load_state_dict(self, state: dict[str, Any]) -> None:
        for name in state["adapters"]:
            if name not in self.peft_model.peft_config:
                with torch.random.fork_rng(devices=[]):
                    self.peft_model.add_adapter(name, self.sets.config())
        self.order = list(state["adapters"])
        self.activate(current=None)

    def added_parameters(self, backbone: nn.Module, tasks: int) -> int:
        return self.sets.added_parameters(backbone, tasks)

    def extra_memory_bytes(self) -> int:
        return sum(p.numel() * p.element_size() for n, p in self.peft_model.named_parameters() if "lora_" in n)

    def memory_profile(self, batch_size: int) -> MemoryProfile:
        return MemoryProfile()
