"""``olora``: the orthogonality penalty keeps the sets' A matrices apart, and earlier sets never move again."""

from __future__ import annotations

import dataclasses
from types import SimpleNamespace

import torch

from benchmark.core.config import TrainConfig
from benchmark.engine.trainer import train_task
from benchmark.model.task_model import TaskModel
from benchmark.model.tiny_backbone import tiny
from strategies.lora import LoRA
from strategies.olora import OLoRA
from tests.unit.test_strategy_mechanisms import WORDS, fixture_task

HEADS = ("first", "second", "third")


def trained(strategy: OLoRA | LoRA) -> tuple[TaskModel, list[dict[str, torch.Tensor]]]:
    """Three tasks trained in order; the LoRA weights after each."""
    backbone = tiny(texts=[" ".join(WORDS)])
    base = fixture_task(backbone, n=24)
    tasks = [dataclasses.replace(base, name=h, head=h, index=i) for i, h in enumerate(HEADS)]
    strategy.bind(SimpleNamespace(seed=0, tasks=tasks))
    model = strategy.wrap_model(TaskModel(backbone.model, kind="causal", head_sizes={h: 2 for h in HEADS}, seed=0))
    snapshots = []
    for task in tasks:
        strategy.before_task(model, task)
        train_task(model, task, strategy, TrainConfig(batch_size=4, lr=3e-2, epochs=3, warmup_ratio=0.0), pad_id=backbone.pad_id,
                   generator=torch.Generator().manual_seed(task.index))
        strategy.after_task(model, task)
        snapshots.append({n: p.detach().clone() for n, p in model.backbone.named_parameters() if "lora_" in n})
    return model, snapshots


def overlap(model: TaskModel) -> float:
    """sum over modules and set pairs s < t of sum |A_s A_t^T|, on any peft model with one set per task."""
    layers = [m for m in model.backbone.modules() if hasattr(m, "lora_A") and isinstance(m.lora_A, torch.nn.ModuleDict) and len(m.lora_A)]
    return float(sum(torch.abs(layer.lora_A[s].weight @ layer.lora_A[t].weight.T).sum()
                     for layer in layers for i, t in enumerate(HEADS) for s in HEADS[:i]))


def test_the_orthogonality_penalty_keeps_the_sets_apart_where_per_task_lora_does_not() -> None:
    olora_model, _ = trained(OLoRA(lambda_1=0.5, lora_dropout=0.0))
    lora_model, _ = trained(LoRA(per_task=True))
    unpenalised, _ = trained(OLoRA(lambda_1=0.0, lora_dropout=0.0))
    assert overlap(olora_model) < 0.5 * overlap(lora_model)  # measured: 4.6 against 76.9 (and 102.7 without the penalty)
    assert overlap(olora_model) < 0.5 * overlap(unpenalised)  # the penalty, not the rest of the method, does it


def test_earlier_sets_are_bit_identical_after_later_tasks_and_every_set_stays_in_the_forward_pass() -> None:
    strategy = OLoRA(lora_dropout=0.0)
    model, snapshots = trained(strategy)
    for t, head in enumerate(HEADS):
        own = [n for n in snapshots[t] if f".{head}." in n]
        assert own and all(torch.equal(later[n], snapshots[t][n]) for later in snapshots[t + 1:] for n in own), head
        assert any(snapshots[t][n].any() for n in own if "lora_B" in n)  # its B moved from zero while its task trained
    assert model.backbone.base_model.active_adapters == list(HEADS)
    assert not any(p.requires_grad for n, p in model.backbone.named_parameters())  # nothing trains between tasks
