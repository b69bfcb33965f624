"""The optimizer step every training loop of the harness takes: the only calls of ``backward()`` and ``step()``.

:mod:`benchmark.engine.trainer` (a run's training) and :mod:`benchmark.engine.finetune`
(a measure's copy of the model) both go through these two functions, so gradient
clipping, loss scaling and the run's processes apply wherever the harness trains.
Avalanche's engine (``strategies/avalanche``) runs Avalanche's own loop on purpose: it
is the independent implementation forgetbench's strategies are cross-checked against.
"""

from __future__ import annotations

import torch

from benchmark.engine.parallel import Parallel


def backward(loss: torch.Tensor, parallel: Parallel) -> None:
    """Accumulates ``loss``'s gradients (accelerate scales an fp16 loss; DDP all-reduces outside ``no_sync``)."""
    parallel.accelerator.backward(loss)


def optimizer_step(
    optimizer: torch.optim.Optimizer, scheduler: torch.optim.lr_scheduler.LRScheduler | None, params: list[torch.nn.Parameter],
    max_grad_norm: float | None, parallel: Parallel,
) -> torch.Tensor | None:
    """One update from the accumulated gradients: clip them, step the optimizer and the schedule, clear them.

    Returns:
        The gradients' total norm before clipping (a tensor: read it only when needed, a GPU waits for it), or None
        when they are not clipped.
    """
    norm = None
    if max_grad_norm is not None:
        norm = parallel.accelerator.clip_grad_norm_(params, max_grad_norm)
    optimizer.step()
    if scheduler is not None:
        scheduler.step()
    optimizer.zero_grad(set_to_none=True)
    return norm
