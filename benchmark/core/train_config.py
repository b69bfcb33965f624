"""How each task is trained: the ``train:`` section of a suite config."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from benchmark.core.errors import UserError


@dataclass
class TrainConfig:
    """How each task is trained (shared by every strategy of a suite).

    ``layer_lr_decay`` turns on discriminative learning rates (Howard & Ruder 2018):
    block l of L gets ``lr * layer_lr_decay ** (L + 1 - depth)`` (embeddings lowest).
    ``unfreeze_every`` > 0 turns on gradual unfreezing: training starts with the top
    of the backbone (and the heads) and one more block joins every that many steps.
    ``batch_size`` is the batch of one optimizer step on any hardware: processes
    started by ``accelerate launch`` and ``grad_accum_steps`` micro-batches share it.
    ``precision`` bf16 or fp16 is accelerate's mixed precision (fp16 scales the loss
    on GPUs; it is meant for GPUs without bf16). ``gradient_checkpointing`` keeps only
    each transformer block's input during the forward pass and recomputes the rest in
    the backward (transformers' non-reentrant activation checkpointing): less memory,
    more time, the same gradients; it is not part of a run's fingerprint, so a run may
    resume with it switched either way. ``sharding`` fsdp cuts the weights, gradients and
    optimizer state over the processes of ``accelerate launch`` (PyTorch FSDP2) instead of
    giving each process the whole model (DistributedDataParallel); the records are those
    of one process, so it is not part of the fingerprint either. ``freeze_layers`` k > 0
    keeps the embeddings and the k lowest transformer blocks frozen while every task
    trains, whatever the strategy (Zheng et al. 2025).
    """

    epochs: int = 1
    batch_size: int = 16
    lr: float = 5e-5
    head_lr: float = 1e-3
    weight_decay: float = 0.0
    warmup_ratio: float = 0.1
    schedule: Literal["linear", "constant"] = "linear"
    max_grad_norm: float | None = 1.0
    bucket_batches: int = 50
    precision: Literal["fp32", "bf16", "fp16"] = "fp32"
    grad_accum_steps: int = 1
    layer_lr_decay: float | None = None
    unfreeze_every: int = 0
    gradient_checkpointing: bool = False
    sharding: Literal["none", "fsdp"] = "none"
    freeze_layers: int = 0

    def check(self, source: str) -> None:
        """Training settings in their ranges (one sentence naming the field, from ``source``)."""
        if not 0.0 <= self.warmup_ratio < 1.0:
            raise UserError(f"{source}: field 'train.warmup_ratio' must be in [0, 1), got {self.warmup_ratio}")
        if self.layer_lr_decay is not None and not 0 < self.layer_lr_decay <= 1:
            raise UserError(f"{source}: field 'train.layer_lr_decay' must be in (0, 1], got {self.layer_lr_decay}")
        if self.unfreeze_every < 0:
            raise UserError(f"{source}: field 'train.unfreeze_every' must be 0 (off) or a number of steps, got {self.unfreeze_every}")
        if self.lr <= 0 or self.head_lr <= 0:
            raise UserError(f"{source}: learning rates 'train.lr' and 'train.head_lr' must be positive")
        if self.weight_decay < 0:
            raise UserError(f"{source}: field 'train.weight_decay' must be 0 or more, got {self.weight_decay}")
        if self.freeze_layers < 0:
            raise UserError(f"{source}: field 'train.freeze_layers' must be 0 (none) or a number of blocks, got {self.freeze_layers}")
        if self.max_grad_norm is not None and self.max_grad_norm <= 0:
            raise UserError(
                f"{source}: field 'train.max_grad_norm' must be positive (or null for no clipping), got {self.max_grad_norm}"
            )
