"""--gradient-checkpointing: blocks recompute in the backward pass, gradients and records stay what they were."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch
from peft import LoraConfig, get_peft_model

from benchmark.model.backbones import load_backbone
from benchmark.model.task_model import TaskModel
from benchmark.results.records import read_record, record_files
from tests.conftest import keyword_task, write_toy_scenario
from tests.runs.test_weights_dtype import suite


def tiny_task_model(lora: bool) -> TaskModel:
    texts = keyword_task("grad", ["a", "b"], 10, seed=0)["text"].tolist()
    model = TaskModel(load_backbone("tiny", texts=texts).model, kind="causal", head_sizes={"grad": 2}, seed=0)
    if lora:
        model.backbone = get_peft_model(model.backbone, LoraConfig(r=4, target_modules=["q_proj", "v_proj"], lora_dropout=0.0))
    return model


def gradients(checkpointed: bool, lora: bool) -> tuple[dict[str, torch.Tensor], int]:
    """The gradients of one classification loss, and how many times block 0's MLP ran for it."""
    torch.manual_seed(0)
    model = tiny_task_model(lora)
    if checkpointed:
        model.checkpoint_activations()
    model.train()
    calls = []
    body = model.body()
    # A pre-hook: torch stops the recomputation once the last tensor backward needs is saved, inside the MLP.
    body.layers[0].mlp.register_forward_pre_hook(lambda *_: calls.append(1))
    ids = torch.randint(3, 50, (4, 12))
    loss = torch.nn.functional.cross_entropy(model(ids, torch.ones_like(ids), "grad"), torch.tensor([0, 1, 0, 1]))
    loss.backward()
    grads = {n: p.grad.clone() for n, p in model.named_parameters() if p.requires_grad and p.grad is not None}
    return grads, len(calls)


@pytest.mark.parametrize("lora", [False, True], ids=["full", "lora"])
def test_checkpointed_blocks_recompute_and_give_the_same_gradients(lora: bool) -> None:
    plain, plain_calls = gradients(checkpointed=False, lora=lora)
    checkpointed, checkpointed_calls = gradients(checkpointed=True, lora=lora)
    assert (plain_calls, checkpointed_calls) == (1, 2)  # the block ran again in the backward pass
    assert plain.keys() == checkpointed.keys()
    assert any("lora_" in n for n in plain) == lora and any("layers.0." in n for n in plain)  # gradients reach block 0
    for name, grad in plain.items():
        assert torch.allclose(checkpointed[name], grad, rtol=1e-5, atol=1e-7), name


def test_a_checkpointed_run_records_what_the_plain_run_records(tmp_path: Path) -> None:
    scenario = write_toy_scenario(tmp_path / "toy", n_tasks=2, n_per_class=30, train_size=32, test_size=16)
    for out, extra in (("plain", {}), ("checkpointed", {"train": {"gradient_checkpointing": True}})):
        outcomes = suite(scenario, tmp_path / out, ["naive", "lora", "adapters"], **extra)
        for outcome in outcomes.values():  # the switch reached every run's model (under LoRA's wrapper too)
            backbone = outcome.model.backbone
            backbone = backbone.get_base_model() if hasattr(backbone, "get_base_model") else backbone
            assert backbone.is_activation_checkpointing == (out == "checkpointed")
    plain = {p.name: read_record(p) for p in record_files(tmp_path / "plain")}
    checkpointed = {p.name: read_record(p) for p in record_files(tmp_path / "checkpointed")}
    assert plain.keys() == checkpointed.keys() and len(plain) == 3
    for name, record in plain.items():
        assert checkpointed[name].config["train"]["gradient_checkpointing"] is True
        assert checkpointed[name].fingerprint == record.fingerprint  # resumable either way
        assert checkpointed[name].measures == record.measures, name
