"""``wise_ft``: alpha = 1 is naive bit for bit, alpha = 0 keeps the pretrained backbone, the interpolation is exact."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace

import pytest
import torch

from strategies.wise_ft import WiseFT
from tests.conftest import write_toy_scenario
from tests.runs.test_strategies import base_weights
from tests.runs.test_weights_dtype import suite


@pytest.fixture(scope="module")
def scenario(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_toy_scenario(tmp_path_factory.mktemp("toy"), n_tasks=3, n_per_class=30, train_size=32, test_size=16)


@pytest.mark.parametrize("formulation", ["heads", "text"])
@pytest.mark.parametrize("anchor", ["pretrained", "previous"])
def test_alpha_one_reproduces_naive_bit_for_bit(scenario: Path, tmp_path: Path, formulation: str, anchor: str) -> None:
    outcomes = suite(scenario, tmp_path / "out", ["naive", "wise_ft"], formulation=formulation,
                     strategy_args={"wise_ft": {"alpha": 1.0, "anchor": anchor}})
    naive, wise = outcomes["naive"], outcomes["wise_ft"]
    assert wise.record.measures == naive.record.measures  # every series, outcomes included
    trained, interpolated = base_weights(naive.model), base_weights(wise.model)
    assert all(torch.equal(interpolated[k], trained[k]) for k in trained)


def test_alpha_zero_with_the_pretrained_anchor_keeps_the_pretrained_backbone(scenario: Path, tmp_path: Path) -> None:
    outcomes = suite(scenario, tmp_path / "out", ["frozen", "wise_ft", "naive"], strategy_args={"wise_ft": {"alpha": 0.0}})
    pretrained, kept = base_weights(outcomes["frozen"].model), base_weights(outcomes["wise_ft"].model)
    assert all(torch.equal(kept[k], pretrained[k]) for k in pretrained)
    assert outcomes["wise_ft"].record.measures["perplexity"] == outcomes["frozen"].record.measures["perplexity"]
    assert outcomes["naive"].record.measures["perplexity"] != outcomes["frozen"].record.measures["perplexity"]  # training moved it


@pytest.mark.parametrize("anchor", ["pretrained", "previous"])
def test_after_each_task_the_weights_are_the_interpolation_with_the_anchor(anchor: str) -> None:
    model = SimpleNamespace(backbone=torch.nn.Linear(3, 2))
    with torch.no_grad():
        model.backbone.weight.fill_(1.0)
    start = {k: v.clone() for k, v in model.backbone.state_dict().items()}
    strategy = WiseFT(alpha=0.25, anchor=anchor)
    strategy.wrap_model(model)
    for task in range(2):
        strategy.before_task(model, None)
        anchor_now = {k: v.clone() for k, v in model.backbone.state_dict().items()} if anchor == "previous" else start
        with torch.no_grad():  # "training": a step of known size
            for p in model.backbone.parameters():
                p.add_(4.0)
        trained = {k: v.clone() for k, v in model.backbone.state_dict().items()}
        strategy.after_task(model, None)
        for name, value in model.backbone.state_dict().items():
            assert torch.allclose(value, 0.75 * anchor_now[name] + 0.25 * trained[name], atol=1e-6), (task, name)
