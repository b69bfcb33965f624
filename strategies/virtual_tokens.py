"""Virtual tokens: input embeddings for token ids past the vocabulary (soft prompts, LAMOL's generation tokens).

A soft prompt is a run of learned input vectors put before a prompt. Making them
token ids of their own (``vocabulary size + k``) rather than vectors spliced into
``inputs_embeds`` keeps every path of the harness as it is: the text scorer's shared
prefix, batched generation with its KV cache, left and right padding, encoder inputs
all take token ids and attention masks, and these ids are placed like any other. The
backbone's input embedding gets a pre-hook that looks such ids up in this module's
tables instead, and the vocabulary, the LM head and every parameter name stay the
same; a pass with no virtual id is the backbone's own, bit for bit. Virtual ids are
inputs only: no loss ever targets one, and the LM head cannot produce one.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from benchmark.model.task_model import TaskModel


class TokenBlock(nn.Module):
    """A run of consecutive virtual tokens; ``own_learning_rate`` (None: the run's) is read by the optimiser's grouping."""

    def __init__(self, vectors: torch.Tensor, own_learning_rate: float | None) -> None:
        super().__init__()
        self.vectors = nn.Parameter(vectors)
        self.own_learning_rate = own_learning_rate


class VirtualTokens(nn.Module):
    """Every virtual token of a model, in blocks; installed once per model with :meth:`of`.

    Attributes:
        first_id: The first virtual id: the input embedding's number of rows.
        blocks: The blocks in the order they were added; block k's tokens follow block k-1's.
    """

    def __init__(self, embedding: nn.Embedding) -> None:
        super().__init__()
        self.first_id = int(embedding.num_embeddings)
        self.blocks = nn.ModuleList()
        self._looked_up: torch.Tensor | None = None
        embedding.register_forward_pre_hook(self._hide_virtual_ids)
        embedding.register_forward_hook(self._put_virtual_vectors)

    @classmethod
    def of(cls, model: TaskModel) -> VirtualTokens:
        """The model's virtual tokens, installed on its backbone's input embedding the first time."""
        if not isinstance(getattr(model, "virtual_tokens", None), VirtualTokens):
            model.virtual_tokens = cls(model.backbone.get_input_embeddings())
        return model.virtual_tokens

    def add(self, vectors: torch.Tensor, *, own_learning_rate: float | None = None) -> list[int]:
        """Adds ``vectors`` (tokens x width, float32) as a new trainable block; returns their ids."""
        start = self.first_id + sum(len(block.vectors) for block in self.blocks)
        self.blocks.append(TokenBlock(vectors.detach().clone().float(), own_learning_rate))
        return list(range(start, start + len(vectors)))

    def _hide_virtual_ids(self, embedding: nn.Module, args: tuple[torch.Tensor, ...]) -> tuple[torch.Tensor, ...] | None:
        ids = args[0]
        virtual = ids >= self.first_id
        if not bool(virtual.any()):
            self._looked_up = None
            return None  # the backbone's own lookup, untouched
        self._looked_up = ids
        return (ids.masked_fill(virtual, 0), *args[1:])

    def _put_virtual_vectors(self, embedding: nn.Module, args: object, output: torch.Tensor) -> torch.Tensor | None:
        ids, self._looked_up = self._looked_up, None
        if ids is None:
            return None
        table = torch.cat([block.vectors for block in self.blocks]).to(output.device)
        virtual = ids >= self.first_id
        found = F.embedding((ids - self.first_id).clamp(min=0), table).to(output.dtype)
        return torch.where(virtual.unsqueeze(-1), found, output)


def vocabulary_rows(model: TaskModel, count: int, generator: torch.Generator) -> torch.Tensor:
    """``count`` input-embedding rows of tokens drawn at random from the vocabulary (float32, detached).

    Progressive Prompts starts each new prompt from the embeddings of random vocabulary
    tokens (as Lester et al. 2021 found best), and so does each generation token here.
    """
    weight = model.backbone.get_input_embeddings().weight
    picked = torch.randint(weight.size(0), (count,), generator=generator)
    return weight.detach()[picked.to(weight.device)].float().cpu()
