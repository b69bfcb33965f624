"""A forgetbench run's tasks as an Avalanche benchmark: one experience per task, with task labels.

Every example is ``(ids, label, task_label)`` where ``ids`` is a 1-D tensor of token ids.
The datasets' collate function pads to one fixed width for the whole scenario (the
longest sequence of any task) and stacks ids and attention mask into one tensor
``[batch, 2, width]``: Avalanche's plugins concatenate mini-batches from different
loaders and experiences (Replay, GEM's and A-GEM's memories), which needs equal
shapes, and they call ``model(x)`` with a single tensor (EWC, MAS). Training batches
of the current experience come from :class:`ForgetbenchBatches` instead, which draws
exactly the batches the native trainer would (length buckets, dynamic padding).
"""

from __future__ import annotations

from collections.abc import Iterator

import torch
from avalanche.benchmarks.scenarios.dataset_scenario import benchmark_from_datasets
from avalanche.benchmarks.scenarios.generic_scenario import CLExperience
from avalanche.benchmarks.scenarios.supervised import with_classes_timeline
from avalanche.benchmarks.scenarios.task_aware import with_task_labels
from avalanche.benchmarks.utils.classification_dataset import TaskAwareClassificationDataset
from avalanche.benchmarks.utils.data_attribute import DataAttribute

from benchmark.model.batching import pad_batch, train_batch_count, train_batch_indices
from benchmark.core.config import TrainConfig
from benchmark.model.encoding import EncodedSplit, EncodedTask


def stack_inputs(input_ids: torch.Tensor, attention_mask: torch.Tensor) -> torch.Tensor:
    """Ids and mask as one ``[batch, 2, width]`` tensor (Avalanche passes a single input tensor)."""
    return torch.stack((input_ids, attention_mask), dim=1)


class FixedWidthCollate:
    """Pads a list of ``(ids, label, task_label)`` examples to ``width`` tokens."""

    def __init__(self, pad_id: int, width: int) -> None:
        self.pad_id = pad_id
        self.width = width

    def __call__(self, examples: list[tuple[torch.Tensor, int, int]]) -> list[torch.Tensor]:
        ids, mask = pad_batch([e[0] for e in examples], self.pad_id, width=self.width)
        labels = torch.tensor([int(e[1]) for e in examples], dtype=torch.long)
        task_labels = torch.tensor([int(e[2]) for e in examples], dtype=torch.long)
        return [stack_inputs(ids, mask), labels, task_labels]


class _Examples(torch.utils.data.Dataset):
    """``(ids, label)`` pairs of one split."""

    def __init__(self, split: EncodedSplit) -> None:
        self.split = split

    def __len__(self) -> int:
        return len(self.split)

    def __getitem__(self, index: int) -> tuple[torch.Tensor, int]:
        return torch.tensor(self.split.input_ids[index], dtype=torch.long), self.split.labels[index]


def task_labels_of(tasks: list[EncodedTask]) -> dict[str, int]:
    """Avalanche task label of every head, in order of first use (one head: class-incremental, label 0)."""
    labels: dict[str, int] = {}
    for task in tasks:
        labels.setdefault(task.head, len(labels))
    return labels


def as_dataset(split: EncodedSplit, task_label: int, collate: FixedWidthCollate) -> TaskAwareClassificationDataset:
    """One split as a task-aware classification dataset (``targets``, ``targets_task_labels``, ``task_set``; LwF uses the last)."""
    return TaskAwareClassificationDataset(
        [_Examples(split)],
        data_attributes=[
            DataAttribute(list(split.labels), "targets"),
            DataAttribute([task_label] * len(split), "targets_task_labels", use_in_getitem=True),
        ],
        collate_fn=collate,
    )


def train_experiences(tasks: list[EncodedTask], pad_id: int) -> list[CLExperience]:
    """The train stream: experience ``i`` holds task ``i``'s training split.

    ``with_task_labels`` is not optional: without it Avalanche's training ignores the
    dataset's collate function and variable-length batches fail to stack.
    ``with_classes_timeline`` adds the per-experience class lists multi-head models need.
    """
    width = max(max(t.train.lengths) for t in tasks)
    collate = FixedWidthCollate(pad_id, width)
    labels = task_labels_of(tasks)
    datasets = [as_dataset(task.train, labels[task.head], collate) for task in tasks]
    benchmark = with_classes_timeline(with_task_labels(benchmark_from_datasets(train=datasets)))
    return list(benchmark.streams["train"])


class ForgetbenchBatches:
    """The native trainer's batches of one task, re-drawn from ``generator`` at every epoch.

    Batches are length-bucketed and padded to their own longest sequence, in the order
    :func:`benchmark.engine.trainer.train_tasks` would use with the same generator, so the
    two engines see identical mini-batches.
    """

    def __init__(self, task: EncodedTask, task_label: int, config: TrainConfig, pad_id: int, generator: torch.Generator) -> None:
        self.task = task
        self.task_label = task_label
        self.config = config
        self.pad_id = pad_id
        self.generator = generator

    def __len__(self) -> int:
        return train_batch_count(len(self.task.train), self.config.batch_size)

    def __iter__(self) -> Iterator[list[torch.Tensor]]:
        for indices in train_batch_indices(self.task.train.lengths, self.config.batch_size, generator=self.generator,
                                           bucket_batches=self.config.bucket_batches):
            batch = self.task.train.batch(indices, self.pad_id)
            task_labels = torch.full_like(batch["labels"], self.task_label)
            yield [stack_inputs(batch["input_ids"], batch["attention_mask"]), batch["labels"], task_labels]
