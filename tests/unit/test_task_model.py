"""The task model: pooling, seeded heads, and the language-model loss."""

from __future__ import annotations

import torch
from transformers import BertConfig, BertForMaskedLM

from benchmark.model.batching import pad_batch
from benchmark.model.task_model import TaskModel
from benchmark.model.tiny_backbone import tiny

TEXTS = ["the cat sat on the mat", "a dog ran", "birds fly south in winter and return in spring"]


def test_causal_pooling_ignores_padding() -> None:
    backbone = tiny(texts=TEXTS)
    model = TaskModel(backbone.model, kind="causal", head_sizes={"t": 2}, seed=0).eval()
    ids = [backbone.tokenizer(t)["input_ids"] for t in TEXTS]
    batch_ids, batch_mask = pad_batch(ids, backbone.pad_id)
    with torch.no_grad():
        together = model.features(batch_ids, batch_mask)
        for row, seq in enumerate(ids):
            alone = model.features(torch.tensor([seq]), torch.ones(1, len(seq), dtype=torch.long))
            torch.testing.assert_close(together[row], alone[0], atol=1e-5, rtol=1e-5)


def test_causal_pooling_uses_the_last_real_token() -> None:
    backbone = tiny(texts=TEXTS)
    model = TaskModel(backbone.model, kind="causal", head_sizes={"t": 2}, seed=0).eval()
    ids, mask = pad_batch([backbone.tokenizer(t)["input_ids"] for t in TEXTS], backbone.pad_id)
    with torch.no_grad():
        hidden = backbone.model.model(input_ids=ids, attention_mask=mask).last_hidden_state
        pooled = model.features(ids, mask)
    for row in range(len(TEXTS)):
        last = int(mask[row].sum()) - 1
        torch.testing.assert_close(pooled[row], hidden[row, last])


def test_heads_depend_on_seed_and_name_not_on_order() -> None:
    backbone = tiny(texts=TEXTS)
    a = TaskModel(backbone.model, kind="causal", head_sizes={"x": 2, "y": 3}, seed=5)
    b = TaskModel(backbone.model, kind="causal", head_sizes={"y": 3, "x": 2}, seed=5)
    c = TaskModel(backbone.model, kind="causal", head_sizes={"x": 2, "y": 3}, seed=6)
    assert torch.equal(a.heads["x"].weight, b.heads["x"].weight)
    assert torch.equal(a.heads["y"].weight, b.heads["y"].weight)
    assert not torch.equal(a.heads["x"].weight, c.heads["x"].weight)
    assert not torch.equal(a.heads["x"].weight[:2], a.heads["y"].weight[:2])


def test_causal_lm_nll_matches_the_model_loss() -> None:
    backbone = tiny(texts=TEXTS)
    model = TaskModel(backbone.model, kind="causal", head_sizes={"t": 2}, seed=0).eval()
    seq = backbone.tokenizer(TEXTS[2])["input_ids"]
    ids = torch.tensor([seq])
    with torch.no_grad():
        nll, count = model.lm_nll(ids, torch.ones_like(ids))
        reference = backbone.model(input_ids=ids, labels=ids).loss
    assert count == len(seq) - 1
    torch.testing.assert_close(nll / count, reference)


def test_encoder_pools_the_first_token_and_masks_for_its_lm_loss() -> None:
    config = BertConfig(vocab_size=50, hidden_size=32, num_hidden_layers=1, num_attention_heads=2, intermediate_size=64)
    torch.manual_seed(0)
    encoder = BertForMaskedLM(config).eval()
    model = TaskModel(encoder, kind="encoder", head_sizes={"t": 3}, seed=0).eval()
    ids = torch.randint(5, 50, (2, 12))
    mask = torch.ones_like(ids)
    with torch.no_grad():
        pooled = model.features(ids, mask)
        hidden = encoder.bert(input_ids=ids, attention_mask=mask).last_hidden_state
        torch.testing.assert_close(pooled, hidden[:, 0])
        first = model.lm_nll(ids, mask, generator=torch.Generator().manual_seed(1), mask_token_id=4)
        second = model.lm_nll(ids, mask, generator=torch.Generator().manual_seed(1), mask_token_id=4)
    assert first[1] > 0 and first[1] < 24  # about 15% of 24 tokens are masked
    assert torch.equal(first[0], second[0])  # a fixed generator fixes the masked positions
