"""``--model NAME:random``: an architecture with freshly drawn weights.

Two uses: throughput and memory measurements of the models the literature runs without
downloading them, and the not-pretrained reference of Ramasesh et al. (2022), who found
that pretrained models forget less than randomly initialised ones of the same shape.
``NAME`` is a shipped architecture (:mod:`benchmark.model.architectures`), a registered
model or a local directory or hub id; the weights are drawn by transformers' own
initialisation under a fixed seed, so the same name gives the same model everywhere.

A shipped architecture has no tokenizer of its own offline: it gets SmolLM2's (from
the packaged default model; its weights are not read), whose 49,152 ids are a subset of every shipped
vocabulary; the embedding keeps the architecture's full size, so memory and compute are
the real model's. A registered model, directory or hub id keeps its own tokenizer (its
pretrained weights are read once and replaced).
"""

from __future__ import annotations

from collections.abc import Callable

import torch
from transformers import PretrainedConfig, PreTrainedModel, PreTrainedTokenizerBase

from benchmark.core.config import RANDOM_SUFFIX
from benchmark.core.hashing import digest
from benchmark.model.architectures import architectures
from benchmark.model.backbones import Backbone, auto_model_class, detect_kind
from benchmark.model.packaged_model import packaged_tokenizer
from benchmark.model.weights_dtype import WEIGHT_DTYPES, typed_fingerprint

RANDOM_SEED = 20221001  # fixed: a random-weight model is a reference, the same wherever it is built
TOKENIZER_MODEL = "smollm2-135m"


def drawn(config: PretrainedConfig, model_class: Callable[[PretrainedConfig], PreTrainedModel], dtype: str) -> PreTrainedModel:
    """A model of ``config`` with weights drawn under :data:`RANDOM_SEED`, in the type ``dtype``, in eval mode."""
    default = torch.get_default_dtype()
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(RANDOM_SEED)
        torch.set_default_dtype(WEIGHT_DTYPES[dtype])  # drawn in the run's type: an 8B model never exists in float32
        try:
            model = model_class(config)
        finally:
            torch.set_default_dtype(default)
    return model.eval()


def random_backbone(
    name: str, load: Callable[[str], Backbone], dtype: str,
    tokenizer: Callable[[], tuple[PreTrainedTokenizerBase, str]] = packaged_tokenizer,
) -> Backbone:
    """The backbone ``NAME:random`` names (``name`` without the suffix), weights drawn afresh.

    Args:
        name: A shipped architecture, a registered model, or a directory or hub id.
        load: Loads a backbone by name (the pretrained loader, for tokenizers and configs).
        dtype: The weights' type.
        tokenizer: A shipped architecture's tokenizer and what identifies it (default: SmolLM2's, weights not read).
    """
    label = f"{name}{RANDOM_SUFFIX}"
    if name.lower() in architectures():
        config = architectures()[name.lower()].config()
        kind = detect_kind(config)
        model_class = auto_model_class(kind).from_config
        words, stamp = tokenizer()
        source = f"{name.lower()}|{TOKENIZER_MODEL}-{stamp}"
    else:
        pretrained = load(name)
        config, kind, words = pretrained.model.config, pretrained.kind, pretrained.tokenizer
        model_class = type(pretrained.model)
        source = pretrained.fingerprint
        del pretrained
    model = drawn(config, model_class, dtype)
    fingerprint = typed_fingerprint(f"{digest(source, config.to_json_string(), length=16)}-random{RANDOM_SEED}", dtype)
    return Backbone(model=model, tokenizer=words, kind=kind, name=label, fingerprint=fingerprint)
