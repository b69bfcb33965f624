"""``distill``: keep the model's LM predictions close to the pretrained model's on the task text."""

from __future__ import annotations

import copy

import torch
import torch.nn.functional as F

from benchmark.engine.sharding import release_gathered, shard_module
from benchmark.model.task_model import TaskModel
from strategies.base import Batch, MemoryProfile, Strategy, register_strategy


@register_strategy("distill")
class Distill(Strategy):
    """Penalty weight * KL(pretrained || current) of next-token distributions on the batch's text.

    The cross-entropy regulariser of the NAACL 2019 transfer-learning tutorial: a frozen
    copy of the pretrained model is the teacher, and every real token position of the
    task's text contributes KL(p_teacher || p_student) at temperature ``temperature``
    (seq2seq models: every answer position of the decoder).
    """

    needs_lm_head = True
    shardable = True

    def __init__(self, *, weight: float = 1.0, temperature: float = 1.0) -> None:
        if weight < 0 or temperature <= 0:
            raise ValueError("weight must be >= 0 and temperature > 0")
        self.weight, self.temperature = weight, temperature

    def wrap_model(self, model: TaskModel) -> TaskModel:
        self.teacher = copy.deepcopy(self.run.backbone.model).to(next(model.parameters()).device).eval()
        self.teacher.requires_grad_(False)
        return model

    def after_sharding(self, model: TaskModel) -> None:
        shard_module(self.teacher, self.teacher.base_model, next(model.parameters()).device)  # the teacher is cut like the student

    def penalty(self, model: TaskModel, batch: Batch, outputs: torch.Tensor) -> torch.Tensor | None:
        if self.weight == 0:
            return None
        ids, mask = batch["input_ids"], batch["attention_mask"]
        extra = {"use_cache": False} if model.kind == "causal" else {}
        real = mask.bool()
        if model.kind == "seq2seq":  # the decoder's distributions over the answer positions
            extra = {"decoder_input_ids": self.teacher.prepare_decoder_input_ids_from_labels(labels=batch["target_ids"]), "use_cache": False}
            real = batch["target_ids"] != -100
        with torch.no_grad():
            teacher = self.teacher(input_ids=ids, attention_mask=mask, **extra).logits.float()
        release_gathered(self.teacher)  # sharded: the teacher's root weights are needed no longer (it has no backward)
        student = model.lm_logits(ids, mask, **extra).float()
        t = self.temperature
        kl = F.kl_div(F.log_softmax(student / t, -1), F.log_softmax(teacher / t, -1), log_target=True, reduction="none").sum(-1)
        return self.weight * (t * t) * kl[real].mean()

    def memory_profile(self, batch_size: int) -> MemoryProfile:
        # The teacher; the student's LM pass with its logits, and the teacher's logits (no graph).
        return MemoryProfile(copies=1, lm_passes=1.5)

    def extra_memory_bytes(self) -> int:
        return sum(p.numel() * p.element_size() for p in self.teacher.parameters())
