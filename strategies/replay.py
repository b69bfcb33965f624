"""``replay``: experience replay from a fixed-size, class-balanced memory of earlier tasks."""

from __future__ import annotations

from typing import Any

import torch

from benchmark.core.hashing import derived_seed
from benchmark.model.encoding import EncodedTask
from benchmark.model.task_model import TaskModel
from strategies.base import Batch, MemoryProfile, Strategy, register_strategy
from strategies.memory_loss import summed_memory_loss
from scenarios.prepare import class_quotas


@register_strategy("replay")
class Replay(Strategy):
    """Experience replay: each step adds the loss on a batch drawn from a class-balanced buffer of past tasks.

    After each task the buffer is rebalanced so that every class seen so far holds an
    equal share of ``buffer_size`` slots (earlier classes give up random examples); a
    task answered in free text has no classes and is one group.
    Replayed examples are scored with their own task's head (text formulation: by the
    loss of their own task's answer). Replay batches are drawn
    with a generator seeded per task, not torch's global one, so every process of a
    multi-process run draws the same batch whatever its own data did to the global RNG.
    """

    shardable = True  # the buffer and its draws are the same on every process, so every process replays the same batch

    def __init__(self, *, buffer_size: int = 200, replay_batch_size: int | None = None, weight: float = 1.0) -> None:
        if buffer_size < 1 or weight < 0 or (replay_batch_size is not None and replay_batch_size < 1):
            raise ValueError("buffer_size >= 1, weight >= 0 and replay_batch_size >= 1 are required")
        self.buffer_size, self.replay_batch_size, self.weight = buffer_size, replay_batch_size, weight
        self.buffer: dict[str, list[tuple[list[int], int, str]]] = {}  # class key -> (ids, label, head)
        self.sampler = torch.Generator()

    def before_task(self, model: TaskModel, task: EncodedTask) -> None:
        self.sampler.manual_seed(derived_seed(self.run.seed, "replay draws", task.index))

    def after_task(self, model: TaskModel, task: EncodedTask) -> None:
        generator = torch.Generator().manual_seed(derived_seed(self.run.seed, "replay buffer", task.index))
        for key, members in self._groups(task).items():
            order = torch.randperm(len(members), generator=generator).tolist()
            self.buffer[key] = [(task.train.input_ids[members[i]], task.train.labels[members[i]], task.head) for i in order]
        keys = sorted(self.buffer)
        for key, quota in zip(keys, class_quotas(self.buffer_size, len(keys))):
            self.buffer[key] = self.buffer[key][:quota]

    @staticmethod
    def _groups(task: EncodedTask) -> dict[str, list[int]]:
        """The buffer's balanced groups of a task's training examples: its classes, or the whole task when it answers in free text.

        A free-text task's label is the example's own answer (one "class" per example), so
        it is kept as one group: balancing over examples would hand every slot to the
        task whose keys sort first.
        """
        if task.generation is not None:
            return {f"{task.head}/examples": list(range(len(task.train.labels)))}
        return {f"{task.head}/{label}": [i for i, y in enumerate(task.train.labels) if y == label] for label in sorted(set(task.train.labels))}

    def examples(self) -> list[tuple[list[int], int, str]]:
        """Everything in the buffer, in a fixed order."""
        return [item for key in sorted(self.buffer) for item in self.buffer[key]]

    def penalty(self, model: TaskModel, batch: Batch, outputs: torch.Tensor) -> torch.Tensor | None:
        memory = self.examples()
        if not memory or self.weight == 0:
            return None
        size = min(self.replay_batch_size or self.run.train.batch_size, len(memory))
        picked = [memory[i] for i in torch.randperm(len(memory), generator=self.sampler)[:size].tolist()]
        return self.weight * summed_memory_loss(model, picked, self.run, batch["input_ids"].device) / size

    def state_dict(self) -> dict[str, Any]:
        return {"buffer": self.buffer}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.buffer = state["buffer"]

    def memory_profile(self, batch_size: int) -> MemoryProfile:
        return MemoryProfile(extra_batches=(self.replay_batch_size or batch_size) / batch_size)  # the replayed batch

    def extra_memory_bytes(self) -> int:
        return sum(len(ids) * 8 + 16 for ids, _, _ in self.examples())  # int64 token ids + label/head
