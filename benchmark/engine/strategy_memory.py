"""What a strategy adds to a run's memory: the profile the memory plan reads, and the bytes of its state."""

from __future__ import annotations

from dataclasses import dataclass

import torch


@dataclass(frozen=True)
class MemoryProfile:
    """What a strategy adds to the peak memory of a run, for the check before training.

    Attributes:
        copies: Backbone-sized float32 copies alive at the peak: kept state (anchors,
            Fisher, a teacher) plus transient ones (per-example gradients while EWC
            estimates its Fisher, the autograd buffers of a weight penalty).
        extra_batches: Training batches beyond the task's own whose activations are
            kept for backward at once (a replay batch).
        lm_passes: Language-model passes per step whose vocabulary-sized logits are kept
            (an auxiliary LM loss, distillation).
    """

    copies: float = 0.0
    extra_batches: float = 0.0
    lm_passes: float = 0.0

    def __add__(self, other: MemoryProfile) -> MemoryProfile:
        return MemoryProfile(self.copies + other.copies, self.extra_batches + other.extra_batches, self.lm_passes + other.lm_passes)


def tensor_bytes(value: object) -> int:
    """Total bytes of the tensors inside nested dicts, lists and tuples."""
    if isinstance(value, torch.Tensor):
        return value.numel() * value.element_size()
    if isinstance(value, dict):
        return sum(tensor_bytes(v) for v in value.values())
    if isinstance(value, (list, tuple)):
        return sum(tensor_bytes(v) for v in value)
    return 0
