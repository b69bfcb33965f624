"""``aux_lm``: an auxiliary language-model loss on the task's own text (Chronopoulou et al. 2019, SiATL)."""

from __future__ import annotations

import torch

from benchmark.model.task_model import TaskModel
from strategies.base import Batch, MemoryProfile, Strategy, register_strategy


@register_strategy("aux_lm")
class AuxiliaryLM(Strategy):
    """Task loss + gamma_t * LM loss on the batch's text, gamma_t = gamma0 * decay ** step (SiATL).

    The LM objective keeps the backbone a language model while it learns the task; its
    weight decays exponentially over the training steps of each task, so the task loss
    dominates towards the end. Encoders use their masked-LM loss.
    """

    needs_lm_head = True
    shardable = True

    def __init__(self, *, gamma0: float = 1.0, decay: float = 0.95) -> None:
        if gamma0 < 0 or not 0 < decay <= 1:
            raise ValueError("gamma0 must be >= 0 and 0 < decay <= 1")
        self.gamma0, self.decay = gamma0, decay
        self.step = 0

    def gamma(self, step: int) -> float:
        """The LM-loss weight at 0-based ``step`` of a task."""
        return self.gamma0 * self.decay**step

    def before_task(self, model: TaskModel, task: object) -> None:
        self.step = 0

    def penalty(self, model: TaskModel, batch: Batch, outputs: torch.Tensor) -> torch.Tensor | None:
        # The trainer names the optimizer step, so micro-batches of one step share its weight.
        weight = self.gamma(int(batch.get("step", self.step)))
        self.step += 1
        if weight == 0:
            return None
        tokenizer = self.run.backbone.tokenizer
        with model.language_model_path():
            nll, count = model.lm_nll(
                batch["input_ids"], batch["attention_mask"], mask_token_id=tokenizer.mask_token_id,
                special_ids=tokenizer.all_special_ids,
            )
        return weight * nll / max(count, 1)

    def memory_profile(self, batch_size: int) -> MemoryProfile:
        return MemoryProfile(lm_passes=1)  # the LM pass over the task batch, logits kept for backward
