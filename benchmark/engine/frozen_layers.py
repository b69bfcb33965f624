"""Freezing the lower layers (``train.freeze_layers: k``): the embeddings and the k lowest blocks never train.

The baseline of Zheng et al. (ICLR 2025, "Spurious Forgetting in Continual Learning of
Language Models"), who found that freezing the bottom layers while fine-tuning beats
sequential fine-tuning, EWC and LAMOL on their streams. It composes with every strategy:
whatever a strategy makes trainable (the backbone, LoRA or adapter modules inside the
lower blocks) is frozen while a task trains and released afterwards, so strategies that
read ``requires_grad`` between tasks (EWC's Fisher) see their own choice.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

from torch import nn

from benchmark.model.layers import parameter_depths
from benchmark.model.task_model import TaskModel


@contextlib.contextmanager
def lower_layers_frozen(model: TaskModel, layers: int) -> Iterator[list[nn.Parameter]]:
    """Inside the block the embeddings (depth 0) and blocks 1..``layers`` do not train; yields what was frozen.

    Raises:
        ValueError: If ``layers`` is not below the backbone's number of blocks (the suite refuses that before any work).
    """
    if layers == 0:
        yield []
        return
    depths, n_blocks = parameter_depths(model)
    if layers >= n_blocks:
        raise ValueError(f"cannot freeze {layers} of {n_blocks} blocks")
    frozen = [p for p in model.backbone.parameters() if p.requires_grad and depths.get(id(p), n_blocks + 1) <= layers]
    for parameter in frozen:
        parameter.requires_grad_(False)
    try:
        yield frozen
    finally:
        for parameter in frozen:
            parameter.requires_grad_(True)
