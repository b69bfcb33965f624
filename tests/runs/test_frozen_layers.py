"""``train.freeze_layers``: the embeddings and the k lowest blocks stay bit-identical under every strategy."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

from strategies.base import STRATEGIES
from tests.conftest import write_toy_scenario
from tests.runs.test_strategies import base_weights
from tests.runs.test_weights_dtype import suite

NATIVE_HEADS = sorted(
    n for n in STRATEGIES.names() if not n.startswith("avalanche:") and (STRATEGIES.get(n).formulations or ("heads",)).count("heads")
)
LOWER = ("model.embed_tokens.", "model.layers.0.")  # the tiny model has 2 blocks: freeze_layers 1 freezes these


@pytest.fixture(scope="module")
def scenario(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_toy_scenario(tmp_path_factory.mktemp("toy"), n_tasks=2, n_per_class=30, train_size=32, test_size=16)


def test_the_lower_layers_stay_pretrained_under_every_strategy_and_the_upper_ones_train(scenario: Path, tmp_path: Path) -> None:
    outcomes = suite(scenario, tmp_path / "out", NATIVE_HEADS, train={"freeze_layers": 1})
    pretrained = base_weights(outcomes["frozen"].model)  # frozen never trains the backbone (its own tests say so)
    assert sorted(outcomes) == NATIVE_HEADS
    for name, outcome in outcomes.items():
        assert outcome.record.status == "finished", (name, outcome.record.error)
        weights = base_weights(outcome.model)
        lower = [k for k in pretrained if k.startswith(LOWER)]
        assert lower and all(torch.equal(weights[k], pretrained[k]) for k in lower), name
        # Modules a strategy put inside the frozen block start as the identity (LoRA's B, an adapter's up) and stay so.
        added = {k: v for k, v in outcome.model.backbone.state_dict().items() if ".layers.0." in k and ("lora_B" in k or ".up." in k)}
        assert all(not v.any() for v in added.values()), name
    naive = base_weights(outcomes["naive"].model)
    assert any(not torch.equal(naive[k], pretrained[k]) for k in pretrained if k.startswith("model.layers.1."))  # the top block trained
    lora = outcomes["lora"].model.backbone.state_dict()
    assert any(v.any() for k, v in lora.items() if ".layers.1." in k and "lora_B" in k)  # LoRA trained above the frozen block


def test_freezing_no_layer_keeps_the_fingerprint_and_freezing_some_changes_it(scenario: Path, tmp_path: Path) -> None:
    plain = suite(scenario, tmp_path / "plain", ["naive"])["naive"].record
    zero = suite(scenario, tmp_path / "zero", ["naive"], train={"freeze_layers": 0})["naive"].record
    one = suite(scenario, tmp_path / "one", ["naive"], train={"freeze_layers": 1})["naive"].record
    assert plain.fingerprint == zero.fingerprint != one.fingerprint
    assert plain.measures == zero.measures and one.measures["accuracy"] != plain.measures["accuracy"]

