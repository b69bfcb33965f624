"""Per-layer pooled representations of a model, and linear CKA between two of them.

One forward pass with ``output_hidden_states`` gives every layer at once: the pooled
final layer is what a task's head reads (so accuracy can be computed from it), the
other layers serve probes and representation drift. Pooling is the model's own (the
last real token of a causal LM, the first token of an encoder) at every layer.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import torch

from benchmark.engine.evaluation import autocast, model_device
from benchmark.model.batching import eval_batch_indices, pad_batch
from benchmark.model.encoding import EncodedSplit
from benchmark.model.task_model import TaskModel, eval_mode, pool


def all_hidden_states(model: TaskModel, input_ids: torch.Tensor, attention_mask: torch.Tensor) -> tuple[torch.Tensor, ...]:
    """Every layer's hidden states of the model's body (embeddings first), for the active route."""
    if model.kind == "seq2seq":
        raise NotImplementedError("per-layer features of seq2seq models are not measured")
    extra = {"use_cache": False} if model.kind == "causal" else {}
    return model.body()(input_ids=input_ids, attention_mask=attention_mask, output_hidden_states=True, **extra).hidden_states


@dataclass
class LayerFeatures:
    """Pooled features of every layer for a list of examples, in the examples' order.

    Attributes:
        layers: Shape (layers + 1, examples, hidden), float32 on the CPU: index 0 the
            embeddings, the last the final (normed) layer, which a task's head reads.
        labels: Each example's class, shape (examples,).
    """

    layers: torch.Tensor
    labels: torch.Tensor

    @property
    def final(self) -> torch.Tensor:
        """The final layer's features, shape (examples, hidden)."""
        return self.layers[-1]


def split_batches(input_ids: Sequence[Sequence[int]], labels: Sequence[int], *, pad_id: int, batch_size: int) -> list[tuple[list[int], dict[str, torch.Tensor]]]:
    """Length-sorted, right-padded batches of ``input_ids`` (the same batches accuracy evaluates), with their example indices."""
    batches = []
    for indices in eval_batch_indices([len(ids) for ids in input_ids], batch_size):
        ids, mask = pad_batch([input_ids[i] for i in indices], pad_id)
        batches.append((indices, {"input_ids": ids, "attention_mask": mask, "labels": torch.tensor([labels[i] for i in indices], dtype=torch.long)}))
    return batches


def layer_features(model: TaskModel, batches: Iterable[tuple[list[int], dict[str, torch.Tensor]]], *, route: str | None, precision: str) -> LayerFeatures:
    """Pooled features of every layer over ``batches`` (from :func:`split_batches`), with ``route`` (a head name, or None) active."""
    device = model_device(model)
    order: list[int] = []
    layers: list[torch.Tensor] = []
    labels: list[torch.Tensor] = []
    with eval_mode(model), torch.inference_mode(), autocast(precision, device):
        model.router.activate(route)
        for indices, batch in batches:
            mask = batch["attention_mask"].to(device)
            hidden = all_hidden_states(model, batch["input_ids"].to(device), mask)
            layers.append(torch.stack([pool(h, mask, model.kind) for h in hidden]).float().cpu())
            labels.append(batch["labels"])
            order.extend(indices)
    if not order:
        raise ValueError("no examples to compute features of")
    back = torch.argsort(torch.tensor(order))
    return LayerFeatures(torch.cat(layers, dim=1)[:, back], torch.cat(labels)[back])


def split_features(model: TaskModel, split: EncodedSplit, n: int, *, route: str | None, pad_id: int, batch_size: int, precision: str) -> LayerFeatures:
    """Per-layer features of the first ``n`` examples of ``split`` (in the text formulation: the prompts alone, no answer)."""
    batches = split_batches(split.input_ids[:n], split.labels[:n], pad_id=pad_id, batch_size=batch_size)
    return layer_features(model, batches, route=route, precision=precision)


def linear_cka(X: torch.Tensor, Y: torch.Tensor) -> float:
    """Linear CKA (Kornblith et al. 2019) between two representations of the same n inputs.

    ``X`` (n, p) and ``Y`` (n, q) are centred per feature; CKA = ||Yc^T Xc||_F^2 /
    (||Xc^T Xc||_F ||Yc^T Yc||_F), in float64. It is 1 for representations equal up to
    an orthogonal transform and an isotropic scale. Bit-identical inputs give exactly 1
    (rather than 1 give or take a rounding of the two norms), which is what lets a test
    tell an untouched model from a nearly untouched one. A constant representation
    (zero norm) has no defined CKA: NaN.
    """
    if X.shape[0] != Y.shape[0]:
        raise ValueError(f"CKA needs the same inputs in both representations; got {X.shape[0]} and {Y.shape[0]} rows")
    if torch.equal(X, Y):
        return 1.0
    x = X.double() - X.double().mean(dim=0, keepdim=True)
    y = Y.double() - Y.double().mean(dim=0, keepdim=True)
    cross = torch.linalg.matrix_norm(y.T @ x) ** 2
    scale = torch.linalg.matrix_norm(x.T @ x) * torch.linalg.matrix_norm(y.T @ y)
    return float(cross / scale) if float(scale) > 0 else float("nan")


def token_features(model: TaskModel, windows: Sequence[Sequence[int]], positions: Sequence[tuple[int, int]], *, route: str | None, precision: str, batch_size: int) -> torch.Tensor:
    """Hidden states of every layer at (window, position) pairs of equal-length corpus windows, shape (layers + 1, pairs, hidden).

    The pairs are returned in the order given; each window runs once, whatever the number of its positions.
    """
    device = model_device(model)
    needed = sorted({w for w, _ in positions})
    rows: dict[int, torch.Tensor] = {}
    with eval_mode(model), torch.inference_mode(), autocast(precision, device):
        model.router.activate(route)
        for start in range(0, len(needed), batch_size):
            chunk = needed[start : start + batch_size]
            ids, mask = pad_batch([windows[w] for w in chunk], 0)
            stacked = torch.stack(all_hidden_states(model, ids.to(device), mask.to(device))).float().cpu()  # (layers + 1, batch, length, hidden)
            for k, w in enumerate(chunk):
                rows[w] = stacked[:, k]
    return torch.stack([rows[w][:, p] for w, p in positions], dim=1)
