"""A model's structure without its weights: built on the meta device from its config, for planning memory."""

from __future__ import annotations

import torch
from torch import nn

from benchmark.core.config import RANDOM_SUFFIX
from benchmark.core.errors import UserError
from benchmark.core.hub import hub_reachable
from benchmark.model.architectures import architectures
from benchmark.model.backbones import MODELS, auto_model_class, detect_kind, load_backbone


def structure_of(name: str) -> nn.Module:
    """The model ``--model`` names, with no weights read (``NAME:random`` is the same structure).

    A shipped architecture or a hub id or directory is built on the meta device from its
    config; a registered model that is not a shipped architecture (``tiny``, ``tiny-t5``,
    ``minilm-l6``, a plug-in's) is small and is loaded as it is.
    """
    from transformers import AutoConfig

    base = name.removesuffix(RANDOM_SUFFIX)
    if base.lower() in architectures():
        config = architectures()[base.lower()].config()
    elif base in MODELS:
        return load_backbone(base, texts=[]).model
    else:
        try:
            config = AutoConfig.from_pretrained(base, local_files_only=not hub_reachable())
        except (OSError, ValueError) as exc:
            raise UserError(
                f"model {base!r} is not a shipped architecture ({', '.join(architectures())}), a registered model, a local "
                "model directory or a hub id whose config is reachable; check the spelling or pass one of the shipped names"
            ) from exc
    with torch.device("meta"):
        return auto_model_class(detect_kind(config)).from_config(config)
