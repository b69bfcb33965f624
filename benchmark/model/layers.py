"""Depth of every backbone parameter: embeddings at 0, block i at i+1, the rest on top.

Used by the layer-wise schedules (discriminative learning rates, gradual unfreezing).
The blocks are the longest ``nn.ModuleList`` in the backbone body (``layers`` in
Llama, ``h`` in GPT-2, ``encoder.layer`` in BERT), so any transformers model works.
"""

from __future__ import annotations

from torch import nn

from benchmark.model.task_model import TaskModel


def transformer_blocks(body: nn.Module) -> tuple[str, nn.ModuleList]:
    """The dotted name and module of the body's stack of blocks."""
    lists = [(name, module) for name, module in body.named_modules() if isinstance(module, nn.ModuleList)]
    if not lists:
        raise ValueError(f"{type(body).__name__} has no ModuleList of transformer blocks")
    return max(lists, key=lambda item: len(item[1]))


def parameter_depths(model: TaskModel) -> tuple[dict[int, int], int]:
    """Maps ``id(parameter)`` of every backbone parameter to its depth; returns (depths, number of blocks).

    Depth 0: embeddings and anything below the first block; depth i+1: block i;
    depth L+1: final norm, LM head and anything above the last block.
    """
    body = model.body()
    _, blocks = transformer_blocks(body)
    n_blocks = len(blocks)
    below = {id(p) for p in body.get_input_embeddings().parameters()}
    depths: dict[int, int] = {}
    for index, block in enumerate(blocks):
        for parameter in block.parameters():
            depths[id(parameter)] = index + 1
    for parameter in model.backbone.parameters():
        if id(parameter) not in depths:
            depths[id(parameter)] = 0 if id(parameter) in below else n_blocks + 1
    return depths, n_blocks
