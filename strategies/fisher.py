"""Diagonal Fisher information of the trainable backbone parameters, two estimators.

``empirical``: the mean over examples of each example's squared gradient, computed in
chunks with ``torch.func`` (``vmap`` over ``grad``). ``batch``: the mean over
mini-batches of the squared *mini-batch* gradient, which is what Avalanche's
EWCPlugin computes. Averaging before squaring cancels noise, so the batch estimate is
smaller by a factor close to the batch size while ranking parameters almost the same
way; a penalty weight tuned for one estimator is not comparable with the other.

Inside ``vmap`` every example is run as a batch of one with a prebuilt 4-D additive
attention mask and one-hot pooling: transformers 5 builds masks with data-dependent
control flow that ``vmap`` cannot trace from a 2-D mask, and SDPA attention has no
batching rule (it falls back to a slow loop), so attention runs eagerly meanwhile.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

import torch
import torch.nn.functional as F
from torch import nn
from torch.func import functional_call, grad, vmap

from benchmark.model.batching import pad_batch
from benchmark.model.text_batches import answer_batch
from benchmark.engine.parallel import Parallel
from benchmark.engine.sharding import is_sharded, local
from benchmark.engine.stepping import backward
from benchmark.model.task_model import TaskModel, eval_mode

Example = tuple[list[int], int]
"""Token ids and an int: the label (``classification``), ignored (``lm``), or where the answer starts (``answer``).

The ``answer`` objective is the text formulation's task loss: the ids are a prompt
followed by its gold answer, and only the answer tokens are predicted."""


def trainable_backbone_parameters(model: TaskModel) -> dict[str, nn.Parameter]:
    """The backbone's trainable parameters by name (relative to ``model.backbone``)."""
    return {name: p for name, p in model.backbone.named_parameters() if p.requires_grad}


def additive_mask(attention_mask: torch.Tensor, causal: bool) -> torch.Tensor:
    """(B, 1, L, L) float mask: 0 where a query may attend a key, the dtype minimum elsewhere."""
    length = attention_mask.size(1)
    allowed = attention_mask[:, None, :].bool().expand(-1, length, -1)
    if causal:
        allowed = allowed & torch.tril(torch.ones(length, length, dtype=torch.bool, device=attention_mask.device))
    allowed = allowed | torch.eye(length, dtype=torch.bool, device=attention_mask.device)  # padded rows attend themselves: no NaN
    return torch.where(allowed, 0.0, torch.finfo(torch.float32).min)[:, None]


@contextlib.contextmanager
def eager_attention(model: nn.Module) -> Iterator[None]:
    """Switches a transformers model to eager attention for the duration of the block."""
    previous = getattr(getattr(model, "config", None), "_attn_implementation", None)
    switch = previous not in (None, "eager") and hasattr(model, "set_attn_implementation")
    if switch:
        model.set_attn_implementation("eager")
    try:
        yield
    finally:
        if switch:
            model.set_attn_implementation(previous)


def _body_prefix(model: TaskModel) -> str:
    body = model.body()
    for name, module in model.backbone.named_modules():
        if module is body:
            return f"{name}." if name else ""
    raise ValueError("the backbone body is not a submodule of the backbone")


def _example_losses(model: TaskModel, objective: str, head: str | None):  # noqa: ANN202 - returns a closure
    """The loss of one example as a function of the parameters (for torch.func)."""
    body, prefix = model.body(), _body_prefix(model)
    causal = model.kind == "causal"

    def classification(params: dict[str, torch.Tensor], ids: torch.Tensor, mask4d: torch.Tensor, pool: torch.Tensor, label: torch.Tensor) -> torch.Tensor:
        body_params = {k[len(prefix):]: v for k, v in params.items() if k.startswith(prefix)}
        extra = {"use_cache": False} if causal else {}
        hidden = functional_call(body, body_params, args=(), kwargs={"input_ids": ids[None], "attention_mask": mask4d[None], **extra}, strict=False).last_hidden_state[0]
        logits = model.heads[head]((hidden * pool[:, None]).sum(0))
        return F.cross_entropy(logits[None], label[None])

    def language_model(params: dict[str, torch.Tensor], ids: torch.Tensor, mask4d: torch.Tensor, valid: torch.Tensor, label: torch.Tensor) -> torch.Tensor:
        del label
        logits = functional_call(model.backbone, params, args=(), kwargs={"input_ids": ids[None], "attention_mask": mask4d[None], "use_cache": False}, strict=False).logits[0]
        weights = valid[1:]
        return (F.cross_entropy(logits[:-1], ids[1:], reduction="none") * weights).sum() / weights.sum()

    return classification if objective == "classification" else language_model  # "answer" is the LM loss on answer tokens


def answer_positions(examples: list[Example], mask: torch.Tensor) -> torch.Tensor:
    """(B, L) bool: the real tokens at or after each example's answer start."""
    starts = torch.tensor([e[1] for e in examples], dtype=torch.long)
    return mask.bool() & (torch.arange(mask.size(1))[None, :] >= starts[:, None])


def _inputs(examples: list[Example], pad_id: int, causal: bool, objective: str, device: torch.device) -> tuple[torch.Tensor, ...]:
    ids, mask = pad_batch([e[0] for e in examples], pad_id)
    if objective == "classification":
        index = mask.sum(1) - 1 if causal else torch.zeros(len(examples), dtype=torch.long)
        per_token = F.one_hot(index, ids.size(1)).float()
    elif objective == "answer":  # the LM loss weighted to the answer tokens only
        per_token = answer_positions(examples, mask).float()
    else:
        per_token = mask.float()
    labels = torch.tensor([e[1] for e in examples], dtype=torch.long)
    return tuple(t.to(device) for t in (ids, mask, additive_mask(mask, causal), per_token, labels))


def empirical_fisher(
    model: TaskModel, examples: list[Example], *, objective: str, head: str | None, pad_id: int, chunk_size: int = 4,
) -> dict[str, torch.Tensor]:
    """Mean over ``examples`` of squared per-example gradients of the loss.

    Args:
        model: The model at the weights to estimate around.
        examples: (token ids, label) pairs.
        objective: ``classification`` (cross-entropy of ``head``), ``lm`` (causal LM loss) or ``answer`` (its answer tokens).
        head: The classification head (ignored for ``lm``).
        pad_id: Padding token id.
        chunk_size: Examples per vmap call (memory grows with it: one gradient copy each).
    """
    params = {k: p.detach() for k, p in trainable_backbone_parameters(model).items()}
    fisher = {k: torch.zeros_like(p) for k, p in params.items()}
    per_example_grads = vmap(grad(_example_losses(model, objective, head)), in_dims=(None, 0, 0, 0, 0))
    device = next(iter(params.values())).device
    # no_grad outside torch.func.grad: the per-example gradients are still computed, but
    # no graph reaching the (trainable) head parameters is kept alive.
    with eval_mode(model), eager_attention(model.backbone), torch.no_grad():
        for start in range(0, len(examples), chunk_size):
            ids, _mask, mask4d, per_token, labels = _inputs(examples[start : start + chunk_size], pad_id, model.kind == "causal", objective, device)
            grads = per_example_grads(params, ids, mask4d, per_token, labels)
            for name, g in grads.items():
                fisher[name] += g.pow(2).sum(0)
    return {k: v / len(examples) for k, v in fisher.items()}


def _unit_loss(
    model: TaskModel, chunk: list[Example], *, objective: str, head: str | None, pad_id: int, answers: list[list[int]] | None,
    device: torch.device,
) -> torch.Tensor:
    """The mean loss of ``objective`` on one mini-batch of examples."""
    ids, mask = pad_batch([e[0] for e in chunk], pad_id)
    ids, mask = ids.to(device), mask.to(device)
    if objective == "classification":
        labels = torch.tensor([e[1] for e in chunk], device=device)
        return F.cross_entropy(model(ids, mask, head), labels)
    if objective == "answer" and answers is not None:
        batch = answer_batch([e[0] for e in chunk], [e[1] for e in chunk], answers, pad_id, "seq2seq")
        return model.answer_loss({k: v.to(device) for k, v in batch.items()}, head)[0]
    if objective == "answer":
        targets = ids.masked_fill(~answer_positions(chunk, mask.cpu()).to(device), -100)
        return model.answer_loss({"input_ids": ids, "attention_mask": mask, "target_ids": targets}, head)[0]
    nll, count = model.lm_nll(ids, mask)
    return nll / count


def batch_fisher(
    model: TaskModel, examples: list[Example], *, objective: str, head: str | None, pad_id: int, batch_size: int = 8,
    answers: list[list[int]] | None = None,
) -> dict[str, torch.Tensor]:
    """Mean over mini-batches of the squared mini-batch gradient (Avalanche's EWC estimate).

    With ``answers`` (a seq2seq model's ``answer`` objective) the examples are (prompt, class).
    """
    params = trainable_backbone_parameters(model)
    names = list(params)
    fisher = {k: torch.zeros_like(p) for k, p in params.items()}
    device = next(iter(params.values())).device
    batches = 0
    with eval_mode(model):
        for start in range(0, len(examples), batch_size):
            chunk = examples[start : start + batch_size]
            loss = _unit_loss(model, chunk, objective=objective, head=head, pad_id=pad_id, answers=answers, device=device)
            grads = torch.autograd.grad(loss, [params[k] for k in names], allow_unused=True)
            for name, g in zip(names, grads):
                if g is not None:
                    fisher[name] += g.detach().pow(2)
            batches += 1
    return {k: v / max(batches, 1) for k, v in fisher.items()}


def sharded_fisher(
    model: TaskModel, examples: list[Example], *, objective: str, head: str | None, pad_id: int, batch_size: int,
    parallel: Parallel, answers: list[list[int]] | None = None,
) -> dict[str, torch.Tensor]:
    """:func:`batch_fisher` of a sharded model: sharded like its parameters, the whole model never on one process.

    Every process walks every mini-batch (FSDP gathers each block from all of them): the
    gradient FSDP reduces is then the mini-batch's own, and each process squares and sums
    its part. ``torch.autograd.grad`` cannot be asked for a sharded parameter's gradient
    (the forward pass uses the gathered copy), so the gradient is accumulated by a
    backward pass, read and cleared. Batches of one give the empirical estimate.
    """
    params = trainable_backbone_parameters(model)
    fisher = {k: torch.zeros_like(p) for k, p in params.items()}
    device = local(next(iter(params.values()))).device
    model.zero_grad(set_to_none=True)
    batches = 0
    with eval_mode(model):
        for start in range(0, len(examples), batch_size):
            chunk = examples[start : start + batch_size]
            backward(_unit_loss(model, chunk, objective=objective, head=head, pad_id=pad_id, answers=answers, device=device), parallel)
            with torch.no_grad():
                for name, p in params.items():
                    if p.grad is not None:
                        fisher[name] += p.grad.pow(2)
            model.zero_grad(set_to_none=True)
            batches += 1
    return {k: v / max(batches, 1) for k, v in fisher.items()}


def shared_fisher(
    model: TaskModel, examples: list[Example], *, estimator: str, objective: str, head: str | None, pad_id: int,
    batch_size: int, parallel: Parallel | None = None, answers: list[list[int]] | None = None,
) -> dict[str, torch.Tensor]:
    """The ``estimator`` Fisher of ``examples``, computed by all of a run's processes together.

    ``answers``: a seq2seq model's answer token ids by class (its ``answer`` examples are
    (prompt, class)); its empirical Fisher is the batch estimate over batches of one
    example, which is the same quantity (``torch.func`` is not used on encoder-decoders).

    Each process estimates on its share of the units that are averaged (examples for
    ``empirical``, mini-batches for ``batch``); the shares are weighted by their unit
    counts and summed over processes, so every process holds the same Fisher, the one a
    single process computes (up to float summation order). A sharded model's Fisher is
    :func:`sharded_fisher`'s, sharded like the parameters.
    """
    size = batch_size if estimator == "batch" else 1
    if is_sharded(model) and parallel is not None:
        return sharded_fisher(model, examples, objective=objective, head=head, pad_id=pad_id, batch_size=size, parallel=parallel, answers=answers)
    units = [examples[k : k + size] for k in range(0, len(examples), size)]
    mine = parallel.shard(units) if parallel is not None else units
    flat = [example for unit in mine for example in unit]
    if flat and estimator == "empirical" and answers is None:
        local = empirical_fisher(model, flat, objective=objective, head=head, pad_id=pad_id, chunk_size=batch_size)
    elif flat:
        per_batch = batch_size if estimator == "batch" else 1
        local = batch_fisher(model, flat, objective=objective, head=head, pad_id=pad_id, batch_size=per_batch, answers=answers)
    else:  # more processes than units: this process contributes nothing
        local = {k: torch.zeros_like(p) for k, p in trainable_backbone_parameters(model).items()}
    if parallel is None or parallel.processes == 1:
        return local
    names = sorted(local)
    weighted = torch.cat([local[k].flatten() * len(mine) for k in names])
    total = parallel.sum(weighted) / len(units)
    pieces = torch.split(total, [local[k].numel() for k in names])
    return {k: piece.view_as(local[k]) for k, piece in zip(names, pieces)}
