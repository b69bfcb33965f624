"""--model NAME:random: the architecture with weights drawn afresh, the same wherever it is built, labelled as such."""

from __future__ import annotations

from pathlib import Path

import torch

from benchmark.model.backbones import Backbone, load_backbone
from benchmark.model.random_weights import random_backbone
from leaderboard.aggregate import scenario_labels
from tests.conftest import keyword_task
from tests.runs.test_weights_dtype import suite
from tests.conftest import write_toy_scenario

TEXTS = keyword_task("rand", ["a", "b"], 10, seed=0)["text"].tolist()


def tiny_loader(name: str, weights: str = "fp32") -> Backbone:
    """Every name loads the tiny model."""
    del name
    return load_backbone("tiny", texts=TEXTS, dtype=weights)


def tiny_tokenizer() -> tuple[object, str]:
    """The tiny model's tokenizer stands in for the packaged one (no GGUF conversion in a unit test)."""
    return tiny_loader("tiny").tokenizer, "tiny"


def test_a_shipped_architecture_is_drawn_reproducibly_at_full_size_in_the_runs_type() -> None:
    first = random_backbone("smollm2-135m", tiny_loader, "bf16", tokenizer=tiny_tokenizer)
    again = random_backbone("smollm2-135m", tiny_loader, "bf16", tokenizer=tiny_tokenizer)
    assert sum(p.numel() for p in first.model.parameters()) == 134_515_008  # the architecture, not the tokenizer's size
    assert {p.dtype for p in first.model.parameters()} == {torch.bfloat16}
    for (name, a), b in zip(first.model.named_parameters(), again.model.parameters()):
        assert torch.equal(a, b), name
    assert first.name == "smollm2-135m:random" and first.fingerprint == again.fingerprint and first.fingerprint.endswith("-bf16")
    assert first.kind == "causal" and first.tokenizer.pad_token_id is not None


def test_a_registered_model_keeps_its_tokenizer_and_config_with_new_weights(tmp_path: Path) -> None:
    scenario = write_toy_scenario(tmp_path / "toy", n_tasks=2, n_per_class=30, train_size=32, test_size=16)
    pretrained = suite(scenario, tmp_path / "pretrained", ["naive"])["naive"]
    drawn = suite(scenario, tmp_path / "random", ["naive"], model="tiny:random")["naive"]
    assert drawn.record.model == "tiny:random" and drawn.record.fingerprint != pretrained.record.fingerprint
    assert drawn.record.status == "finished" and drawn.record.parameters == pretrained.record.parameters
    # the row-0 model differs: a fresh draw scores the corpus differently from the seeded tiny model
    assert drawn.record.perplexity[0] != pretrained.record.perplexity[0]
    labels = scenario_labels([pretrained.record, drawn.record])
    assert labels[1].endswith("· tiny:random") and labels[0].endswith("· tiny")
    assert scenario_labels([drawn.record])[0].endswith("· random weights")
