"""The ``tiny`` model: a 2-layer Llama built from a config, with a word-level tokenizer.

It needs no download, so the test suite and ``--preset smoke`` run offline in seconds.
The tokenizer's vocabulary is built from the scenario's texts (most frequent words
first); the weights are a fixed seeded initialisation standing in for pretraining.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence

import torch
from tokenizers import Tokenizer, models, normalizers, pre_tokenizers, processors
from transformers import LlamaConfig, LlamaForCausalLM, PreTrainedTokenizerFast

from benchmark.core.hashing import digest
from benchmark.model.backbones import Backbone, register_model

SPECIAL_TOKENS = ["[PAD]", "[UNK]", "[BOS]", "[EOS]", "[SEP]"]
# A chat template in plain words (the text formulation's ``prompt_style: chat`` on the tiny model).
CHAT_TEMPLATE = (
    "{% for m in messages %}{{ m['role'] }}: {{ m['content'] }}{% if m['role'] == 'assistant' %} [EOS]{% endif %}{{ '\\n' }}{% endfor %}"
    "{% if add_generation_prompt %}assistant:{% endif %}"
)
MAX_VOCAB = 4000
MODEL_SEED = 1234


def build_word_tokenizer(texts: list[str], max_vocab: int = MAX_VOCAB, reserved: Sequence[str] = ()) -> PreTrainedTokenizerFast:
    """A lower-casing word-level tokenizer over the ``max_vocab`` most frequent words of ``texts``.

    Every word of ``reserved`` (a prompt's template and answers) is in the vocabulary
    even when it is rare: it takes the place of the least frequent words, so a
    vocabulary that held it already is unchanged.
    """
    pre = pre_tokenizers.Whitespace()

    def words_of(text: str) -> list[str]:
        return [word.lower() for word, _ in pre.pre_tokenize_str(text)]

    counts: Counter[str] = Counter()
    for text in texts:
        counts.update(words_of(text))
    size = max_vocab - len(SPECIAL_TOKENS)
    words = sorted(counts, key=lambda w: (-counts[w], w))[:size]
    kept = set(words)
    missing = sorted({w for text in reserved for w in words_of(text)} - kept - set(SPECIAL_TOKENS))
    if missing:
        words = words[: max(0, size - len(missing))] + missing
    vocab = {token: i for i, token in enumerate(SPECIAL_TOKENS + words)}
    tokenizer = Tokenizer(models.WordLevel(vocab=vocab, unk_token="[UNK]"))
    tokenizer.normalizer = normalizers.Lowercase()
    tokenizer.pre_tokenizer = pre
    # Pair inputs are joined with [SEP] so sentence-pair tasks work on the tiny model too.
    tokenizer.post_processor = processors.TemplateProcessing(
        single="$A", pair="$A [SEP] $B", special_tokens=[("[SEP]", vocab["[SEP]"])]
    )
    return PreTrainedTokenizerFast(
        tokenizer_object=tokenizer, pad_token="[PAD]", unk_token="[UNK]", bos_token="[BOS]", eos_token="[EOS]", sep_token="[SEP]",
        chat_template=CHAT_TEMPLATE,
    )


def tiny_config(vocab_size: int) -> LlamaConfig:
    """The tiny Llama: 2 layers, hidden 64, 4 heads (2 KV heads), no dropout."""
    return LlamaConfig(
        vocab_size=vocab_size,
        hidden_size=64,
        intermediate_size=128,
        num_hidden_layers=2,
        num_attention_heads=4,
        num_key_value_heads=2,
        max_position_embeddings=512,
        tie_word_embeddings=True,
        pad_token_id=0,
        bos_token_id=2,
        eos_token_id=3,
        attention_dropout=0.0,
    )


@register_model("tiny")
def tiny(*, texts: list[str], reserved: Sequence[str] = ()) -> Backbone:
    """Tiny 2-layer Llama with a word-level tokenizer built from the scenario texts (tests, smoke runs)."""
    tokenizer = build_word_tokenizer(texts, reserved=reserved)
    config = tiny_config(len(tokenizer))
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(MODEL_SEED)
        model = LlamaForCausalLM(config)
    model.eval()
    vocab_hash = digest("\n".join(tokenizer.convert_ids_to_tokens(list(range(len(tokenizer))))), length=16)
    return Backbone(model=model, tokenizer=tokenizer, kind="causal", name="tiny", fingerprint=f"tiny-{MODEL_SEED}-{vocab_hash}")
