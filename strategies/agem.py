"""``agem``: averaged gradient episodic memory (Chaudhry et al. ICLR 2019, "Efficient Lifelong Learning with A-GEM")."""

from __future__ import annotations

from typing import Any

import torch
from torch import nn

from benchmark.core.hashing import derived_seed
from benchmark.engine.evaluation import autocast
from benchmark.model.encoding import EncodedTask
from benchmark.model.task_model import TaskModel
from strategies.base import MemoryProfile, Strategy, register_strategy
from strategies.memory_loss import Stored, summed_memory_loss


def project_gradient(gradients: list[torch.Tensor], reference: list[torch.Tensor]) -> bool:
    """A-GEM's projection, in place: if g . g_ref < 0, g <- g - (g . g_ref / g_ref . g_ref) g_ref; returns whether it projected.

    The dot products are summed in float64 over every tensor, so they do not depend on how
    the model is cut into tensors. A gradient that does not conflict is not touched.
    """
    dot = sum(torch.vdot(g.reshape(-1).double(), r.reshape(-1).double()) for g, r in zip(gradients, reference))
    norm = sum(torch.vdot(r.reshape(-1).double(), r.reshape(-1).double()) for r in reference)
    if not dot < 0 or not norm > 0:
        return False
    scale = float(dot / norm)
    for g, r in zip(gradients, reference):
        g.sub_(r.to(g.dtype), alpha=scale)
    return True


@register_strategy("agem")
class AGEM(Strategy):
    """A-GEM: each step's gradient g is projected when it would raise the loss on the episodic memory.

    After each task ``patterns_per_task`` of its training examples (a seeded random draw)
    join the episodic memory. At every optimizer step the reference gradient g_ref is the
    gradient of the mean loss on ``sample_size`` examples drawn from the memory (each
    scored by its own task: its head, or its answer in the text formulations); if
    g . g_ref < 0 the step uses g - (g . g_ref / g_ref . g_ref) g_ref instead, so that,
    to first order, the memory's average loss does not increase. The defaults are the
    paper's MNIST settings (250 examples per task, a reference batch of 256; its code fills
    the memory per class, here a task's examples are drawn at random, since free-text tasks
    have no classes). The projection acts on the gradient, not the loss, through the
    strategy contract's ``adjust_gradients``; the reference gradient is computed in chunks
    of the training batch size.
    """

    def __init__(self, *, patterns_per_task: int = 250, sample_size: int = 256) -> None:
        if patterns_per_task < 1 or sample_size < 1:
            raise ValueError("patterns_per_task and sample_size must be at least 1")
        self.patterns_per_task, self.sample_size = patterns_per_task, sample_size
        self.memory: list[Stored] = []
        self.sampler = torch.Generator()
        self.projected = 0  # steps whose gradient was projected (reported, not state)

    def before_task(self, model: TaskModel, task: EncodedTask) -> None:
        self.sampler.manual_seed(derived_seed(self.run.seed, "agem samples", task.index))

    def after_task(self, model: TaskModel, task: EncodedTask) -> None:
        generator = torch.Generator().manual_seed(derived_seed(self.run.seed, "agem memory", task.index))
        kept = torch.randperm(len(task.train.labels), generator=generator)[: self.patterns_per_task].tolist()
        self.memory.extend((task.train.input_ids[i], task.train.labels[i], task.head) for i in kept)

    def adjust_gradients(self, model: TaskModel, params: list[nn.Parameter]) -> None:
        if not self.memory:
            return
        size = min(self.sample_size, len(self.memory))
        sample = [self.memory[i] for i in torch.randperm(len(self.memory), generator=self.sampler)[:size].tolist()]
        reference = self.reference_gradient(model, params, sample)
        gradients = [p.grad if p.grad is not None else torch.zeros_like(p) for p in params]
        if project_gradient(gradients, reference):
            for p, g in zip(params, gradients):
                p.grad = g  # a parameter the step did not reach is moved by the projection (the same tensor otherwise)
            self.projected += 1

    def reference_gradient(self, model: TaskModel, params: list[nn.Parameter], sample: list[Stored]) -> list[torch.Tensor]:
        """The gradient of the mean loss on ``sample`` with respect to ``params`` (zeros where it does not reach)."""
        device = params[0].device
        total = [torch.zeros_like(p) for p in params]
        chunk = self.run.train.batch_size
        for start in range(0, len(sample), chunk):
            with autocast(self.run.train.precision, device):
                loss = summed_memory_loss(model, sample[start : start + chunk], self.run, device) / len(sample)
            grads = torch.autograd.grad(loss, params, allow_unused=True)
            for acc, g in zip(total, grads):
                if g is not None:
                    acc.add_(g)
        return total

    def state_dict(self) -> dict[str, Any]:
        return {"memory": self.memory}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.memory = [tuple(item) for item in state["memory"]]  # type: ignore[misc]

    def memory_profile(self, batch_size: int) -> MemoryProfile:
        return MemoryProfile(copies=1, extra_batches=1)  # g_ref, and one memory chunk's activations at a time

    def extra_memory_bytes(self) -> int:
        return sum(len(ids) * 8 + 16 for ids, _, _ in self.memory)  # int64 token ids + label/head
