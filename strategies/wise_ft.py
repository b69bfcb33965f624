"""``wise_ft``: weight interpolation after every task (WiSE-FT, Wortsman et al. CVPR 2022)."""

from __future__ import annotations

from typing import Literal

import torch

from benchmark.engine.sharding import local
from benchmark.model.task_model import TaskModel
from strategies.base import MemoryProfile, Strategy, register_strategy, tensor_bytes


@register_strategy("wise_ft")
class WiseFT(Strategy):
    """After each task, theta <- (1 - alpha) * theta_anchor + alpha * theta_task over the backbone.

    WiSE-FT interpolates the fine-tuned weights with the zero-shot (pretrained) ones; as
    a continual-learning baseline the interpolation follows every task, with the anchor
    either the pretrained weights (``anchor: pretrained``, WiSE-FT's own choice) or the
    weights the task started from (``anchor: previous``, the model-merging baseline that
    averages each task's result into the running model). ``alpha`` = 1 is sequential
    fine-tuning (naive, bit for bit) and ``alpha`` = 0 with the pretrained anchor keeps
    the pretrained backbone. The default 0.5 is the mixing coefficient WiSE-FT reports as
    a good choice without tuning. Task heads (and any module the backbone did not have)
    are not interpolated: they have no pretrained value. The evaluation after a task
    sees the interpolated model, as in the paper.
    """

    def __init__(self, *, alpha: float = 0.5, anchor: Literal["pretrained", "previous"] = "pretrained") -> None:
        if not 0.0 <= alpha <= 1.0:
            raise ValueError("alpha must be in [0, 1]")
        if anchor not in ("pretrained", "previous"):
            raise ValueError("anchor must be pretrained or previous")
        self.alpha, self.anchor_kind = alpha, anchor
        self.anchor: dict[str, torch.Tensor] = {}
        self.anchor_bytes = 0

    shardable = True  # the interpolation is elementwise: each process interpolates its own part

    def wrap_model(self, model: TaskModel) -> TaskModel:
        self.anchor = self._backbone_copy(model)
        self.anchor_bytes = tensor_bytes(self.anchor)  # counted whole, like every strategy's state, even once it is cut
        return model

    def after_sharding(self, model: TaskModel) -> None:
        self.anchor = self._backbone_copy(model)  # the same pretrained values, cut like the parameters (the whole copy is freed)

    def before_task(self, model: TaskModel, task: object) -> None:
        if self.anchor_kind == "previous":  # the weights this task starts from (after a resume: the checkpoint's)
            self.anchor = self._backbone_copy(model)

    @torch.no_grad()
    def after_task(self, model: TaskModel, task: object) -> None:
        params = dict(model.backbone.named_parameters())
        for name, start in self.anchor.items():
            # lerp(start, end, w) returns end exactly at w = 1 and start exactly at w = 0.
            local(params[name]).copy_(torch.lerp(start, local(params[name]), self.alpha))

    @staticmethod
    def _backbone_copy(model: TaskModel) -> dict[str, torch.Tensor]:
        return {name: local(p).detach().clone() for name, p in model.backbone.named_parameters()}

    def extra_memory_bytes(self) -> int:
        # The pretrained anchor is rebuilt in wrap_model and the previous one in before_task: neither is checkpointed.
        return self.anchor_bytes

    def memory_profile(self, batch_size: int) -> MemoryProfile:
        return MemoryProfile(copies=1)  # the anchor
