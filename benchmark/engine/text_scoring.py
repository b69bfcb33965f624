"""Scoring a task posed as text: rank classification over its answers by log-likelihood.

Shared-prompt scoring (:func:`shared_prompt_loglik`) runs each prompt through the model
once with its keys and values cached; the first token of every answer is read from the
prompt's last position, and each answer's remaining tokens are run over the cache (all
examples of a batch share the candidate's tokens, so that pass has no padding), after
which the cache is cropped back to the prompt. K answers cost one prompt pass plus K
passes over answer tokens instead of K passes over prompt + answer
(:func:`full_pass_loglik`, kept as the reference it is tested and benchmarked against).
The tokens every prompt of a batch begins with (the chat template's system turn, the
task's instruction) are run once, for one row, and their keys and values copied to
every row before the rest of each prompt is run over them (:func:`shared_prefix`).
Only positions that predict an answer token go through the vocabulary projection.
A seq2seq model encodes each prompt once and runs only its decoder for every answer.
"""

from __future__ import annotations

import inspect
from collections.abc import Sequence

import torch
import torch.nn.functional as F

from benchmark.engine.sharding import is_sharded
from benchmark.model.batching import pad_batch
from benchmark.model.task_model import TaskModel


def _cache_argument(body: torch.nn.Module) -> str:
    """The name a model's forward takes its key/value cache by (``cache`` in transformers 5.2x, ``past_key_values`` before)."""
    return "cache" if "cache" in inspect.signature(body.forward).parameters else "past_key_values"


def _token_logprobs(model: TaskModel, hidden: torch.Tensor, tokens: torch.Tensor) -> torch.Tensor:
    """log p(tokens) from the hidden states that predict them: (..., H) and (...) -> (...)."""
    logits = model.output_layer()(hidden).float()
    return F.log_softmax(logits, dim=-1).gather(-1, tokens[..., None]).squeeze(-1)


MIN_SHARED_PREFIX = 4  # tokens: a shorter common start is not worth a separate pass


def shared_prefix(prompts: Sequence[Sequence[int]]) -> int:
    """How many leading tokens every prompt shares, leaving each at least one token of its own (its last predicts the answer)."""
    shortest = min(len(p) for p in prompts)
    first = prompts[0]
    length = 0
    while length < shortest - 1 and all(p[length] == first[length] for p in prompts):
        length += 1
    return length if length >= MIN_SHARED_PREFIX and len(prompts) > 1 else 0


def _prompt_pass(
    model: TaskModel, body: torch.nn.Module, prompts: Sequence[Sequence[int]], pad_id: int, cache: object, cached: dict[str, object],
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Runs the prompts into the cache: (the last prompt token's hidden state per row, the attention mask so far, each row's length).

    The shared prefix runs once for one row; its cache is repeated to every row and each
    prompt's own tokens (right-padded) run after it, at positions that continue it.
    """
    device = next(model.parameters()).device
    start = shared_prefix(prompts)
    ids, mask = (t.to(device) for t in pad_batch([list(p[start:]) for p in prompts], pad_id))
    rows = torch.arange(ids.size(0), device=device)
    lengths = start + mask.sum(dim=1)
    if start:
        prefix = torch.as_tensor([list(prompts[0][:start])], dtype=torch.long, device=device)
        body(input_ids=prefix, **cached)
        cache.batch_repeat_interleave(ids.size(0))
        mask = torch.cat([torch.ones(ids.size(0), start, dtype=mask.dtype, device=device), mask], dim=1)
    elif is_sharded(model):  # every process passes through the blocks as often as the others (they gather weights together)
        body(input_ids=ids[:1, :1], use_cache=False)
    positions = start + torch.arange(ids.size(1), device=device).expand(ids.size(0), -1)
    out = body(input_ids=ids, attention_mask=mask, position_ids=positions, **cached)
    return out.last_hidden_state[rows, lengths - start - 1], mask, lengths


def shared_prompt_loglik(model: TaskModel, prompts: Sequence[Sequence[int]], candidates: Sequence[Sequence[int]], pad_id: int, head: str) -> torch.Tensor:
    """Summed log-likelihood of every candidate answer after every prompt, shape (prompts, candidates).

    Args:
        model: The model (in eval mode, under no_grad or inference_mode).
        prompts: Prompt token ids (right-padded here).
        candidates: Answer token ids of each candidate.
        pad_id: Padding token id.
        head: The task modules to use (per-task adapters, LoRA sets).
    """
    from transformers import DynamicCache

    if model.kind == "seq2seq":
        return _seq2seq_loglik(model, prompts, candidates, pad_id, head, shared=True)
    device = next(model.parameters()).device
    model.router.activate(head)
    body = model.body()
    cache = DynamicCache(config=body.config)
    cached = {_cache_argument(body): cache, "use_cache": True}
    last, mask, lengths = _prompt_pass(model, body, prompts, pad_id, cache, cached)
    first = F.log_softmax(model.output_layer()(last).float(), dim=-1)
    scores = []
    for candidate in candidates:
        tokens = torch.as_tensor(list(candidate), dtype=torch.long, device=device)
        score = first[:, tokens[0]]
        if len(candidate) > 1:
            feed = tokens[:-1].expand(len(prompts), -1)
            steps = torch.arange(feed.size(1), device=device)
            full_mask = torch.cat([mask, torch.ones_like(feed)], dim=1)
            out = body(input_ids=feed, attention_mask=full_mask, position_ids=lengths[:, None] + steps, **cached)
            score = score + _token_logprobs(model, out.last_hidden_state, tokens[1:].expand(len(prompts), -1)).sum(dim=1)
            cache.crop(-feed.size(1))  # back to the prompt for the next candidate
        scores.append(score)
    return torch.stack(scores, dim=1)


def full_pass_loglik(model: TaskModel, prompts: Sequence[Sequence[int]], candidates: Sequence[Sequence[int]], pad_id: int, head: str) -> torch.Tensor:
    """The same scores as :func:`shared_prompt_loglik` from one full pass over prompt + answer per candidate."""
    if model.kind == "seq2seq":
        return _seq2seq_loglik(model, prompts, candidates, pad_id, head, shared=False)
    device = next(model.parameters()).device
    model.router.activate(head)
    body = model.body()
    scores = []
    for candidate in candidates:
        ids, mask = (t.to(device) for t in pad_batch([list(p) + list(candidate) for p in prompts], pad_id))
        hidden = body(input_ids=ids, attention_mask=mask, use_cache=False).last_hidden_state
        starts = torch.as_tensor([len(p) for p in prompts], device=device)
        where = starts[:, None] - 1 + torch.arange(len(candidate), device=device)  # positions predicting the answer
        picked = hidden.gather(1, where[..., None].expand(-1, -1, hidden.size(-1)))
        tokens = torch.as_tensor(list(candidate), dtype=torch.long, device=device).expand(len(prompts), -1)
        scores.append(_token_logprobs(model, picked, tokens).sum(dim=1))
    return torch.stack(scores, dim=1)


def _seq2seq_loglik(model: TaskModel, prompts: Sequence[Sequence[int]], candidates: Sequence[Sequence[int]], pad_id: int, head: str, *, shared: bool) -> torch.Tensor:
    """Encoder-decoder scores: the encoder's output reused for every candidate (``shared``) or recomputed for each."""
    device = next(model.parameters()).device
    model.router.activate(head)
    seq2seq = model.backbone
    ids, mask = (t.to(device) for t in pad_batch(prompts, pad_id))
    encoded = seq2seq.get_encoder()(input_ids=ids, attention_mask=mask) if shared else None
    scores = []
    for candidate in candidates:
        tokens = torch.as_tensor(list(candidate), dtype=torch.long, device=device).expand(ids.size(0), -1)
        decoder_ids = seq2seq.prepare_decoder_input_ids_from_labels(labels=tokens)
        inputs = {"encoder_outputs": encoded} if shared else {"input_ids": ids}
        logits = seq2seq(**inputs, attention_mask=mask, decoder_input_ids=decoder_ids, use_cache=False).logits.float()
        scores.append(F.log_softmax(logits, dim=-1).gather(-1, tokens[..., None]).squeeze(-1).sum(dim=1))
    return torch.stack(scores, dim=1)
