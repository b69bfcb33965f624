"""Pretrained backbones: named models, local directories and hub ids.

A backbone is a transformers model *with its language-model head* (so perplexity and
LM-loss strategies work) plus its tokenizer. Named models (``tiny``, ``tiny-t5``,
``smollm2-135m``, ``minilm-l6``: the last one has no LM head) are registered loader functions; anything else given to ``--model``
is a local directory or a hub id loaded with ``AutoModelFor{CausalLM,MaskedLM,Seq2SeqLM}``.
Encoder-decoder models (T5, Flan-T5) are ``seq2seq``: they pose tasks as text only.
"""

from __future__ import annotations

import inspect

import json
import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from transformers import PreTrainedModel, PreTrainedTokenizerBase

from benchmark.core.hashing import digest
from benchmark.core.errors import UserError
from benchmark.core.hub import hub_reachable
from benchmark.core.registry import Registry
from benchmark.model.weights_dtype import WEIGHT_DTYPES, typed_fingerprint

Kind = Literal["causal", "encoder", "seq2seq"]


@dataclass
class Backbone:
    """A pretrained model with its LM head, its tokenizer, and what identifies its weights.

    ``no_lm_head_reason`` is set for a model shipped without an LM head (an encoder
    checkpoint saved for embeddings): the language-model measures then record "not
    applicable" with this reason, and strategies that train through an LM head are refused.
    """

    model: PreTrainedModel
    tokenizer: PreTrainedTokenizerBase
    kind: Kind
    name: str
    fingerprint: str
    no_lm_head_reason: str = ""

    @property
    def has_lm_head(self) -> bool:
        """Whether the model has its language-model head (perplexity and LM losses need it)."""
        return not self.no_lm_head_reason

    @property
    def max_positions(self) -> int | None:
        """How many token positions the model can attend to (None: no fixed limit, as with T5's relative positions)."""
        config = self.model.config
        if getattr(config, "relative_attention_num_buckets", None):  # T5's relative positions have no table to run out of
            return None
        for name in ("max_position_embeddings", "n_positions", "n_ctx", "max_sequence_length"):
            value = getattr(config, name, None)
            if isinstance(value, int) and value > 0:
                return value
        return None

    @property
    def pad_id(self) -> int:
        """The padding token id (set for every backbone at load time)."""
        return int(self.tokenizer.pad_token_id)


ModelLoader = Callable[..., Backbone]

MODELS: Registry[ModelLoader] = Registry(
    "model",
    where="--model",
    builtin_modules=("benchmark.model.tiny_backbone", "benchmark.model.tiny_seq2seq", "benchmark.model.packaged_model", "benchmark.model.packaged_encoder"),
    entry_point_group="forgetbench.models",
)
register_model = MODELS.register


def config_fingerprint(model: PreTrainedModel, *extra: str) -> str:
    """A short hash of a model's config plus ``extra`` strings (file names, revisions)."""
    return digest(json.dumps(model.config.to_dict(), sort_keys=True, default=str), *extra, length=16)


def detect_kind(config: object) -> Kind:
    """``causal`` for decoder LMs, ``encoder`` for masked-LM encoders, ``seq2seq`` for encoder-decoders, from the config."""
    if getattr(config, "is_encoder_decoder", False):
        return "seq2seq"
    architectures = getattr(config, "architectures", None) or []
    if any("CausalLM" in a or "LMHeadModel" in a for a in architectures):
        return "causal"
    if any("MaskedLM" in a or a.endswith("ForPreTraining") for a in architectures):
        return "encoder"
    from transformers.models.auto.modeling_auto import MODEL_FOR_CAUSAL_LM_MAPPING_NAMES

    return "causal" if getattr(config, "model_type", None) in MODEL_FOR_CAUSAL_LM_MAPPING_NAMES else "encoder"


def auto_model_class(kind: Kind) -> type:
    """transformers' auto class that builds or loads a model of ``kind`` with its LM head."""
    from transformers import AutoModelForCausalLM, AutoModelForMaskedLM, AutoModelForSeq2SeqLM

    return {"causal": AutoModelForCausalLM, "encoder": AutoModelForMaskedLM, "seq2seq": AutoModelForSeq2SeqLM}[kind]


def prepare_tokenizer(tokenizer: PreTrainedTokenizerBase, kind: Kind, name: str) -> PreTrainedTokenizerBase:
    """Right padding, and a pad token (EOS for decoders that have none)."""
    tokenizer.padding_side = "right"
    if tokenizer.pad_token_id is None:
        if kind == "causal" and tokenizer.eos_token is not None:
            tokenizer.pad_token = tokenizer.eos_token
        else:
            raise UserError(f"model {name!r} has a tokenizer with neither a pad nor an EOS token; choose another model")
    return tokenizer


def _load_pretrained(name: str, kind_hint: Literal["auto", "causal", "encoder", "seq2seq"], dtype: str) -> Backbone:
    from transformers import AutoConfig, AutoTokenizer

    online = Path(name).exists() or hub_reachable()
    try:
        config = AutoConfig.from_pretrained(name, local_files_only=not online)
    except (OSError, ValueError) as exc:
        registered = ", ".join(MODELS.names())
        where = "a hub id reachable from here" if online else "in the local Hugging Face cache (the hub is unreachable from here)"
        raise UserError(
            f"model {name!r} is not a registered name ({registered}), a local model directory, or {where}; "
            "check the spelling or the path, or download the model where there is a network"
        ) from exc
    kind = detect_kind(config) if kind_hint == "auto" else kind_hint
    model_cls = auto_model_class(kind)
    # Read in the run's type directly: an 8B model read as float32 first would need 32 GB on the way.
    model = model_cls.from_pretrained(name, dtype=WEIGHT_DTYPES[dtype], local_files_only=not online)
    tokenizer = prepare_tokenizer(AutoTokenizer.from_pretrained(name, local_files_only=not online), kind, name)
    revision = str(getattr(config, "_commit_hash", "") or "")
    return Backbone(model=model, tokenizer=tokenizer, kind=kind, name=name, fingerprint=config_fingerprint(model, name, revision))


def load_backbone(
    name: str, *, kind: Literal["auto", "causal", "encoder", "seq2seq"] = "auto", texts: list[str] | None = None,
    reserved: list[str] | None = None, dtype: str = "fp32",
) -> Backbone:
    """Loads a backbone by registered name, local directory or hub id.

    Args:
        name: A registered model name, a path to a model directory, or a hub id.
        kind: Force ``causal``, ``encoder`` or ``seq2seq``; ``auto`` reads the model config.
        texts: The scenario's texts, for models whose tokenizer is built from data (``tiny``).
        reserved: Texts whose every word such a tokenizer must know however rare (the
            prompts and answers of a task posed as text); passed to a registered model
            whose factory takes ``reserved``.
        dtype: The weights' type (``fp32``, ``bf16``, ``fp16``; ``auto`` is resolved by the
            caller, which knows the device). Any other than fp32 joins the fingerprint, so
            fp32 runs keep the fingerprints they had before weights had a type to choose.
    """
    backbone = _load(name, kind, texts, reserved, dtype)
    if dtype != "fp32":
        backbone.model.to(WEIGHT_DTYPES[dtype])  # registered models are built in float32
        backbone.fingerprint = typed_fingerprint(backbone.fingerprint, dtype)
    return backbone


def _load(name: str, kind: Literal["auto", "causal", "encoder", "seq2seq"], texts: list[str] | None, reserved: list[str] | None, dtype: str) -> Backbone:
    """The backbone by registered name, local directory or hub id (see :func:`load_backbone`)."""
    if name in MODELS:
        factory = MODELS.get(name)
        extra = {"reserved": reserved} if reserved and "reserved" in inspect.signature(factory).parameters else {}
        backbone = factory(texts=texts or [], **extra)
        if kind not in ("auto", backbone.kind):  # a registered model is built as what it is: the flag would be recorded, not applied
            raise UserError(f"--model-kind {kind} does not apply to model {name!r}, which is a registered {backbone.kind} model; leave --model-kind out")
        return backbone
    looks_like_path = name.startswith((".", "/", "~")) or os.sep in name and Path(name).expanduser().exists()
    path = Path(name).expanduser()
    if looks_like_path and not path.exists():
        raise UserError(f"model path {name!r} does not exist; pass an existing model directory or a registered model name to --model")
    if path.exists() and not (path / "config.json").is_file():
        raise UserError(f"model directory {name!r} has no config.json; pass a directory saved with save_pretrained")
    return _load_pretrained(str(path) if path.exists() else name, kind, dtype)
