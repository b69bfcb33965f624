"""The model a run trains: a pretrained backbone (LM head kept) plus classification heads.

Task-incremental runs give every task its own linear head on the shared backbone;
class-incremental runs use one ``shared`` head over the union of labels. Sentences are
pooled from the last real token for causal LMs and from the first token for encoders.
The classification path runs the backbone's body only (the LM head's vocabulary
projection is skipped); the language-model path runs the whole model.

Every forward pass first tells the model's :class:`HeadRouter` which head it serves
(``None`` for language modelling), so task-specific modules (per-task adapters, LoRA
sets) switch with the task and stay out of the language-model path.

In the text formulation there are no heads: a task is learned and scored through the
LM head itself (:meth:`TaskModel.answer_loss`, :mod:`benchmark.engine.text_scoring`).
The task's modules then *are* the language model, so the language-model path keeps
the set of the task trained last (``lm_route``) instead of switching modules off.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator
from typing import TypeVar

import torch
import torch.nn.functional as F
from torch import nn
from transformers import PreTrainedModel

from benchmark.core.hashing import derived_seed
from benchmark.model.backbones import Kind

R = TypeVar("R")

HEAD_INIT_STD = 0.02
MLM_PROBABILITY = 0.15


def pool(hidden: torch.Tensor, attention_mask: torch.Tensor, kind: str) -> torch.Tensor:
    """The representation a head reads from one layer: the last real token (causal, right padding) or the first (encoder)."""
    if kind == "causal":
        last = attention_mask.sum(dim=1) - 1
        return hidden[torch.arange(hidden.size(0), device=hidden.device), last]
    return hidden[:, 0]


def hidden_size(model: PreTrainedModel) -> int:
    """Width of the backbone's last hidden state."""
    size = getattr(model.config, "hidden_size", None)
    return int(size) if size else int(model.get_input_embeddings().embedding_dim)


@contextlib.contextmanager
def eval_mode(module: nn.Module) -> Iterator[nn.Module]:
    """``module`` in eval mode inside the block, back in the mode it was in afterwards (even on an error)."""
    was_training = module.training
    module.eval()
    try:
        yield module
    finally:
        module.train(was_training)


class HeadRouter:
    """Which head the current forward pass serves; ``None`` means language modelling.

    A plain object (not a Module), so modules can hold a reference to it without
    creating a cycle in the module tree. Listeners are called when the head changes.
    """

    def __init__(self) -> None:
        self.active: str | None = None
        self._listeners: list[Callable[[str | None], None]] = []

    def listen(self, listener: Callable[[str | None], None]) -> None:
        """Calls ``listener(head)`` whenever the active head changes."""
        self._listeners.append(listener)

    def activate(self, head: str | None) -> None:
        """Makes ``head`` the active head (None: the language-model path)."""
        if head == self.active:
            return
        self.active = head
        for listener in self._listeners:
            listener(head)


class TaskModel(nn.Module):
    """A backbone with its LM head and one linear classification head per task.

    Args:
        backbone: A transformers model with an LM head (causal or masked).
        kind: ``causal`` (pool the last real token) or ``encoder`` (pool the first token).
        head_sizes: Number of classes of each head, by head name (none in the text formulation).
        seed: Seed of the heads' initialisation (the same seed and name give the same head).
        formulation: ``heads`` or ``text``.

    Attributes:
        lm_route: The task modules the language-model path uses: None (none) with heads;
            in the text formulation the head of the task trained last (set by the engine).
        contexts: Text formulation: test prompts that replace a task's own, by task name
            (the ``icl`` reference puts in-context demonstrations there); not weights.
    """

    def __init__(self, backbone: PreTrainedModel, *, kind: Kind, head_sizes: dict[str, int], seed: int, formulation: str = "heads") -> None:
        super().__init__()
        self.backbone = backbone
        self.kind = kind
        self.formulation = formulation
        self.lm_route: str | None = None
        self.contexts: dict[str, list[list[int]]] = {}
        self.router = HeadRouter()
        width = hidden_size(backbone)
        self.heads = nn.ModuleDict()
        for name, classes in head_sizes.items():
            # Seeded by (seed, head name): a task's head is the same whatever the task order.
            generator = torch.Generator().manual_seed(derived_seed(seed, "head", name))
            head = nn.Linear(width, classes)
            with torch.no_grad():
                head.weight.normal_(0.0, HEAD_INIT_STD, generator=generator)
                head.bias.zero_()
            self.heads[name] = head

    def body(self) -> nn.Module:
        """The backbone without its LM head (unwrapping a peft model if there is one)."""
        model = self.backbone
        if hasattr(model, "get_base_model"):
            model = model.get_base_model()
        return model.base_model

    def features(self, input_ids: torch.Tensor, attention_mask: torch.Tensor) -> torch.Tensor:
        """Pooled sentence representations, shape (batch, hidden)."""
        extra = {"use_cache": False} if self.kind == "causal" else {}
        hidden = self.body()(input_ids=input_ids, attention_mask=attention_mask, **extra).last_hidden_state
        return pool(hidden, attention_mask, self.kind)

    @contextlib.contextmanager
    def language_model_path(self) -> Iterator[TaskModel]:
        """Inside the block the model serves language modelling (task modules off); afterwards the head active before is again."""
        previous = self.router.active
        self.router.activate(self.lm_route)
        try:
            yield self
        finally:
            self.router.activate(previous)

    def whole_model_pass(self, function: Callable[..., R], *args: object) -> R:
        """``function(self, *args)``: code that runs parts of the model (``body()``, the LM head) as one pass of it.

        A sharded model gathers its root's weights around this call as it does around
        ``forward`` (:mod:`benchmark.engine.sharding`); otherwise it is a plain call.
        """
        return function(self, *args)

    def lm_logits(self, input_ids: torch.Tensor, attention_mask: torch.Tensor, **extra: object) -> torch.Tensor:
        """The backbone's vocabulary logits on the language-model path (task modules off); ``extra`` goes to the backbone."""
        with self.language_model_path():
            return self.backbone(input_ids=input_ids, attention_mask=attention_mask, **extra).logits

    def forward(self, input_ids: torch.Tensor, attention_mask: torch.Tensor, head: str) -> torch.Tensor:
        """Class logits of every example from head ``head``."""
        self.router.activate(head)
        layer = self.heads[head]
        # Heads stay float32 whatever the backbone's type (--dtype): small, and their logits feed the loss.
        return layer(self.features(input_ids, attention_mask).to(layer.weight.dtype))

    def checkpoint_activations(self) -> None:
        """Turns on transformers' non-reentrant activation checkpointing of every transformer block of the backbone.

        Non-reentrant: the reentrant variant drops gradients of frozen-backbone inputs
        (LoRA, adapters) unless every input is forced to require them. Blocks recompute
        only in training mode, so evaluation is unchanged.
        """
        model = self.backbone.get_base_model() if hasattr(self.backbone, "get_base_model") else self.backbone
        model.activation_checkpointing_enable(activation_checkpointing_kwargs={"use_reentrant": False})

    def output_layer(self) -> nn.Module:
        """The LM head (the vocabulary projection), unwrapping a peft model if there is one."""
        model = self.backbone.get_base_model() if hasattr(self.backbone, "get_base_model") else self.backbone
        return model.get_output_embeddings()

    def answer_logits(self, input_ids: torch.Tensor, attention_mask: torch.Tensor, target_ids: torch.Tensor, head: str) -> torch.Tensor:
        """Text formulation: vocabulary logits at the positions that predict an answer token, shape (answer tokens, vocab).

        Only those positions go through the LM head: the vocabulary projection of every
        prompt position would cost memory and time and carries no loss.
        """
        self.router.activate(head)
        if self.kind == "seq2seq":  # the prompt to the encoder, the answer (shifted right) to the decoder
            decoder_ids = self.backbone.prepare_decoder_input_ids_from_labels(labels=target_ids)
            logits = self.backbone(input_ids=input_ids, attention_mask=attention_mask, decoder_input_ids=decoder_ids, use_cache=False).logits
            return logits[target_ids != -100]
        hidden = self.body()(input_ids=input_ids, attention_mask=attention_mask, use_cache=False).last_hidden_state
        predicts = target_ids[:, 1:] != -100  # position i predicts token i + 1
        return self.output_layer()(hidden[:, :-1][predicts])

    def answer_loss(self, batch: dict[str, torch.Tensor], head: str) -> tuple[torch.Tensor, torch.Tensor]:
        """Text formulation: mean negative log-likelihood of the answer tokens (prompt tokens carry none), and the logits."""
        logits = self.answer_logits(batch["input_ids"], batch["attention_mask"], batch["target_ids"], head)
        targets = batch["target_ids"] if self.kind == "seq2seq" else batch["target_ids"][:, 1:]
        return F.cross_entropy(logits.float(), targets[targets != -100]), logits

    def lm_nll(
        self, input_ids: torch.Tensor, attention_mask: torch.Tensor, *, generator: torch.Generator | None = None,
        mask_token_id: int | None = None, special_ids: list[int] | None = None,
    ) -> tuple[torch.Tensor, int]:
        """Summed language-model negative log-likelihood (nats) and the number of predicted tokens.

        Causal models predict every real token from its prefix. Encoders predict a
        random 15% of real tokens replaced by the mask token (``generator`` fixes which).
        Seq2seq models predict the second half of each window from its first half (a
        prefix language model: the first half to the encoder, the rest decoded).
        """
        self.router.activate(self.lm_route)
        if self.kind == "seq2seq":
            return prefix_lm_nll(self.backbone, input_ids, attention_mask)
        if self.kind == "causal":
            logits = self.backbone(input_ids=input_ids, attention_mask=attention_mask, use_cache=False).logits
            targets = input_ids[:, 1:].masked_fill(attention_mask[:, 1:] == 0, -100)
            nll = F.cross_entropy(logits[:, :-1].float().flatten(0, 1), targets.flatten(), ignore_index=-100, reduction="sum")
            return nll, int((targets != -100).sum())
        if mask_token_id is None:
            raise ValueError("an encoder's language-model loss needs the tokenizer's mask token id")
        candidates = attention_mask.bool()
        for special in special_ids or []:
            candidates &= input_ids != special
        draw = torch.rand(input_ids.shape, generator=generator, device="cpu").to(input_ids.device)
        chosen = candidates & (draw < MLM_PROBABILITY)
        masked = input_ids.masked_fill(chosen, mask_token_id)
        logits = self.backbone(input_ids=masked, attention_mask=attention_mask).logits
        targets = input_ids.masked_fill(~chosen, -100)
        nll = F.cross_entropy(logits.float().flatten(0, 1), targets.flatten(), ignore_index=-100, reduction="sum")
        return nll, int(chosen.sum())


def prefix_lm_nll(model: PreTrainedModel, input_ids: torch.Tensor, attention_mask: torch.Tensor) -> tuple[torch.Tensor, int]:
    """Summed NLL of the second half of every window given its first half, for an encoder-decoder, and the tokens predicted."""
    rows = [ids[: int(n)].tolist() for ids, n in zip(input_ids, attention_mask.sum(dim=1))]
    cut = [max(1, len(r) // 2) for r in rows]
    pad = int(model.config.pad_token_id)
    width = max(len(r) for r in rows)
    sources = torch.full((len(rows), width), pad, dtype=torch.long)
    mask = torch.zeros_like(sources)
    targets = torch.full((len(rows), width), -100, dtype=torch.long)
    for k, (row, c) in enumerate(zip(rows, cut)):
        sources[k, :c], mask[k, :c] = torch.tensor(row[:c]), 1
        targets[k, : len(row) - c] = torch.tensor(row[c:])
    targets = targets[:, : max(1, int((targets != -100).sum(dim=1).max()))]
    device = input_ids.device
    sources, mask, targets = sources.to(device), mask.to(device), targets.to(device)
    decoder_ids = model.prepare_decoder_input_ids_from_labels(labels=targets)
    logits = model(input_ids=sources, attention_mask=mask, decoder_input_ids=decoder_ids, use_cache=False).logits
    nll = F.cross_entropy(logits.float().flatten(0, 1), targets.flatten(), ignore_index=-100, reduction="sum")
    return nll, int((targets != -100).sum())


def count_parameters(module: nn.Module, *, trainable_only: bool = False) -> int:
    """Number of (trainable) parameters, each shared tensor counted once."""
    return sum(p.numel() for p in module.parameters() if p.requires_grad or not trainable_only)
