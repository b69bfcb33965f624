"""The ``tiny-t5`` model: a 2+2-layer T5 built from a config, with the tiny word-level tokenizer.

The encoder-decoder counterpart of ``tiny`` (:mod:`benchmark.model.tiny_backbone`): no
download, a fixed seeded initialisation, for tests and smoke runs of seq2seq models
in the text formulation.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
from transformers import T5Config, T5ForConditionalGeneration

from benchmark.core.hashing import digest
from benchmark.model.backbones import Backbone, register_model
from benchmark.model.tiny_backbone import MODEL_SEED, build_word_tokenizer


def tiny_t5_config(vocab_size: int) -> T5Config:
    """The tiny T5: 2 encoder and 2 decoder layers, width 64, 4 heads; decoding starts from the pad token, as T5's does."""
    return T5Config(
        vocab_size=vocab_size, d_model=64, d_kv=16, d_ff=128, num_layers=2, num_decoder_layers=2, num_heads=4,
        dropout_rate=0.0, pad_token_id=0, eos_token_id=3, decoder_start_token_id=0, tie_word_embeddings=True,
    )


@register_model("tiny-t5")
def tiny_t5(*, texts: list[str], reserved: Sequence[str] = ()) -> Backbone:
    """Tiny 2+2-layer T5 with a word-level tokenizer built from the scenario texts (tests of seq2seq models)."""
    tokenizer = build_word_tokenizer(texts, reserved=reserved)
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(MODEL_SEED)
        model = T5ForConditionalGeneration(tiny_t5_config(len(tokenizer)))
    model.eval()
    vocab_hash = digest("\n".join(tokenizer.convert_ids_to_tokens(list(range(len(tokenizer))))), length=16)
    return Backbone(model=model, tokenizer=tokenizer, kind="seq2seq", name="tiny-t5", fingerprint=f"tiny-t5-{MODEL_SEED}-{vocab_hash}")
