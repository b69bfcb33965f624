"""Tokenised tasks and corpus: what the trainer, evaluator and strategies consume.

Tokenisation is cached on disk by (tokenizer, exact data, max length), so a suite
and later suites on the same scenario tokenise each split once.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Literal

import torch

from benchmark.core.atomic_io import atomic_write_bytes
from benchmark.model.backbones import Backbone
from benchmark.model.batching import pad_batch
from benchmark.model.text_batches import answer_batch
from benchmark.core.cache import CACHE_FIX, cache_dir
from benchmark.core.hashing import digest
from benchmark.core.errors import UserError
from benchmark.core.notices import notice
from scenarios.prepare import TaskDataset, TextSplit

if TYPE_CHECKING:
    from benchmark.model.generation_task import GenerationTask
    from benchmark.model.prompt_encoding import TextTask


@dataclass
class EncodedSplit:
    """Token id lists with class labels (indices into the head's outputs, or into the answers).

    In the text formulation ``input_ids`` are the prompts and ``answers`` the answer
    token ids of every class: a batch is then each prompt with its gold answer (after
    it, or for the decoder with ``layout: seq2seq``), with the answer tokens as the only
    targets (:func:`benchmark.model.text_batches.answer_batch`).
    """

    input_ids: list[list[int]]
    labels: list[int]
    answers: list[list[int]] | None = None
    layout: str = "causal"
    lengths: list[int] = field(init=False)

    def __post_init__(self) -> None:
        self.lengths = [len(ids) for ids in self.input_ids]

    def __len__(self) -> int:
        return len(self.input_ids)

    def batch(self, indices: list[int], pad_id: int) -> dict[str, torch.Tensor]:
        """Padded tensors for the examples at ``indices`` (with ``target_ids`` in the text formulation)."""
        if self.answers is not None:
            return answer_batch([self.input_ids[i] for i in indices], [self.labels[i] for i in indices], self.answers, pad_id, self.layout)
        input_ids, attention_mask = pad_batch([self.input_ids[i] for i in indices], pad_id)
        labels = torch.tensor([self.labels[i] for i in indices], dtype=torch.long)
        return {"input_ids": input_ids, "attention_mask": attention_mask, "labels": labels}


@dataclass
class EncodedTask:
    """One task as a run sees it: this is the ``task`` every strategy hook receives.

    Attributes:
        name: Task name from the scenario.
        index: 0-based position in the task order of this run.
        head: Name of the classification head this task trains and is scored with.
        label_names: Class names; ``labels`` in the splits index the head's outputs.
        train: Training split.
        test: Test split.
        data_hash: SHA-256 of the exact examples.
        source_hash: SHA-256 of everything loaded for the task (before sampling).
        text: In the text formulation, how the task is posed (prompt, answers, raw
            examples for in-context demonstrations); None with heads.
        generation: In the generate formulation, its references and how outputs are
            generated and scored; None otherwise.
    """

    name: str
    index: int
    head: str
    label_names: list[str]
    train: EncodedSplit
    test: EncodedSplit
    data_hash: str
    source_hash: str = ""
    text: TextTask | None = None
    generation: GenerationTask | None = None

    @property
    def answers(self) -> list[list[int]] | None:
        """The answer token ids of every class (text formulation), else None."""
        return self.train.answers


@dataclass
class EncodedCorpus:
    """Windows of the general corpus for perplexity: each starts with a context token.

    Attributes:
        windows: Token id lists; the first token is context, the rest are predicted.
        n_tokens: Number of predicted tokens over all windows.
        n_bytes: UTF-8 bytes of the text those tokens cover (for bits per byte).
        documents_used: How many leading documents the windows came from; later
            documents are free for strategies that need general text (never scored).
    """

    windows: list[list[int]]
    n_tokens: int
    n_bytes: int
    documents_used: int


def _tokenize(backbone: Backbone, split: TextSplit, max_length: int, where: str) -> list[list[int]]:
    encoded = backbone.tokenizer(
        split.texts, split.pairs, truncation=True, max_length=max_length, add_special_tokens=True
    )["input_ids"]
    empty = [i for i, ids in enumerate(encoded) if not ids]
    if empty:
        raise UserError(f"{where}: {len(empty)} text(s) tokenise to nothing (first: {split.texts[empty[0]]!r}); remove them from the source")
    return [list(ids) for ids in encoded]


def _matches(cached: object, dataset: TaskDataset) -> bool:
    """True if a token-cache entry holds one non-empty id list per example of both splits."""
    if not isinstance(cached, dict):
        return False
    for split, size in (("train", len(dataset.train)), ("test", len(dataset.test))):
        ids = cached.get(split)
        if not isinstance(ids, list) or len(ids) != size:
            return False
        if not all(isinstance(row, list) and row and all(type(v) is int for v in row) for row in ids):
            return False
    return True


def cached_token_ids(
    backbone: Backbone, dataset: TaskDataset, *, tokenize: Callable[[TextSplit], list[list[int]]] | None = None, variant: str = "",
) -> tuple[list[list[int]], list[list[int]]]:
    """Token ids of the train and test split, from the on-disk cache when it holds them.

    Args:
        backbone: The model whose tokenizer is used.
        dataset: The task's examples.
        tokenize: Tokenises one split (default: the texts, cut to the task's max_length).
        variant: What else the ids depend on (a prompt's hash); part of the cache key.
    """
    key = digest(f"{backbone.fingerprint}|{dataset.data_hash}|{dataset.spec.max_length}", *([variant] if variant else []), length=32)
    path = cache_dir() / "tokens" / f"{key}.json"
    if path.is_file():
        try:
            cached = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError, RecursionError):
            cached = None
        if _matches(cached, dataset):
            return cached["train"], cached["test"]
        notice(f"the tokenised-data cache file {path} was damaged; it has been rebuilt")
    where = f"task {dataset.spec.name!r}"
    tokenize = tokenize or (lambda split: _tokenize(backbone, split, dataset.spec.max_length, where))
    train, test = tokenize(dataset.train), tokenize(dataset.test)
    atomic_write_bytes(path, json.dumps({"train": train, "test": test}).encode("utf-8"), fix=CACHE_FIX)
    return train, test


def union_labels(datasets: list[TaskDataset]) -> list[str]:
    """Class names of all tasks in order of first appearance (equal names share one class)."""
    names: list[str] = []
    for dataset in datasets:
        names.extend(n for n in dataset.spec.labels if n not in names)
    return names


def encode_tasks(
    backbone: Backbone, datasets: list[TaskDataset], setting: Literal["task_incremental", "class_incremental"]
) -> list[EncodedTask]:
    """Tokenises the tasks of one run in order; class-incremental labels index the shared head."""
    shared = union_labels(datasets) if setting == "class_incremental" else None
    tasks = []
    for index, dataset in enumerate(datasets):
        train_ids, test_ids = cached_token_ids(backbone, dataset)
        names = dataset.spec.labels
        remap = [shared.index(n) for n in names] if shared else list(range(len(names)))
        tasks.append(
            EncodedTask(
                name=dataset.spec.name,
                index=index,
                head="shared" if shared else dataset.spec.name,
                label_names=shared if shared else list(names),
                train=EncodedSplit(train_ids, [remap[y] for y in dataset.train.labels]),
                test=EncodedSplit(test_ids, [remap[y] for y in dataset.test.labels]),
                data_hash=dataset.data_hash,
                source_hash=dataset.source_hash,
            )
        )
    return tasks


def head_sizes(tasks: list[EncodedTask]) -> dict[str, int]:
    """Number of outputs of every head the tasks use."""
    return {task.head: len(task.label_names) for task in tasks}


def encode_corpus(backbone: Backbone, documents: list[str], *, context: int, budget: int) -> EncodedCorpus:
    """The first ``context`` tokens of each document, in order, until ``budget`` tokens are predicted.

    One window per document keeps the measured slice diverse (many sources) while
    staying fixed across seeds and strategies. Bytes are counted over exactly the text
    the predicted tokens cover, so bits per byte is comparable across tokenizers.
    """
    tokenizer = backbone.tokenizer
    if backbone.kind == "causal":
        prefix = [tokenizer.bos_token_id if tokenizer.bos_token_id is not None else tokenizer.eos_token_id]
        suffix: list[int] = []
    else:
        prefix = [tokenizer.cls_token_id] if tokenizer.cls_token_id is not None else []
        suffix = [tokenizer.sep_token_id] if tokenizer.sep_token_id is not None else []
    windows: list[list[int]] = []
    n_tokens = n_bytes = used = 0
    for document in documents:
        if n_tokens >= budget:
            break
        used += 1
        take = min(context, budget - n_tokens)
        # Tokenising a generous character prefix is enough for `take` tokens and avoids whole long articles.
        encoded = tokenizer(document[: take * 16], add_special_tokens=False, return_offsets_mapping=True)
        ids, offsets = encoded["input_ids"][:take], encoded["offset_mapping"][:take]
        if len(ids) < 2:
            continue
        windows.append(prefix + list(ids) + suffix)
        n_tokens += len(ids)
        n_bytes += len(document[: offsets[-1][1]].encode("utf-8"))
    if not windows:
        raise UserError("the perplexity corpus yields no token windows; check perplexity.source or set eval.ppl_tokens: 0")
    return EncodedCorpus(windows=windows, n_tokens=n_tokens, n_bytes=n_bytes, documents_used=used)
