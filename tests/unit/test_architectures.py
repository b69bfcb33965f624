"""The shipped architectures are the published models: every config builds to the parameter count it states."""

from __future__ import annotations

import pytest
import torch
from transformers import AutoModelForCausalLM, AutoModelForSeq2SeqLM

from benchmark.core.errors import UserError
from benchmark.model.architectures import architecture, architectures

# The list of models a plan must cover offline.
REQUIRED = {"smollm2-135m", "smollm2-360m", "smollm2-1.7b", "qwen2.5-0.5b", "qwen2.5-1.5b", "qwen2.5-7b",
            "llama-3.2-1b", "llama-3.2-3b", "llama-3.1-8b", "t5-large", "flan-t5-xl"}
# Published counts (the hub's model cards and safetensors indexes), independent of the shipped files.
PUBLISHED = {"llama-3.1-8b": 8_030_261_248, "qwen2.5-7b": 7_615_616_512, "llama-3.2-1b": 1_235_814_400, "smollm2-135m": 134_515_008}


@pytest.mark.parametrize("name", sorted(architectures()))
def test_every_config_builds_on_the_meta_device_to_its_stated_parameter_count(name: str) -> None:
    shipped = architecture(name)
    config = shipped.config()
    with torch.device("meta"):
        model = (AutoModelForSeq2SeqLM if config.is_encoder_decoder else AutoModelForCausalLM).from_config(config)
    assert sum(p.numel() for p in model.parameters()) == shipped.parameters
    assert shipped.parameters == PUBLISHED.get(name, shipped.parameters)


def test_the_required_models_are_shipped() -> None:
    assert REQUIRED <= set(architectures())


def test_an_unknown_architecture_is_one_sentence_with_the_closest_name() -> None:
    with pytest.raises(UserError, match=r"^'llama-3.1-8' is not a shipped architecture; did you mean 'llama-3.1-8b'\?$"):
        architecture("llama-3.1-8")
