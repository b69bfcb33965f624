"""Accuracy of a task posed as text: which answers compete, and how the winner is chosen.

Task-incremental: the task's own answers compete. Class-incremental: the answers of
every task seen so far (row i, column j: tasks 1..max(i, j), so a task is never scored
without its own answers). Rank classification reports two variants of the same pass:
``accuracy`` (highest summed log-likelihood, lm-evaluation-harness's ``acc``) and
``accuracy_per_byte`` (log-likelihood per UTF-8 byte of the answer string, its
``acc_norm``-style length correction). Greedy decoding reports exact match and the
share of outputs that are no valid answer at all.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

from benchmark.engine.evaluation import autocast, model_device, summed_over_processes
from benchmark.engine.parallel import Parallel
from benchmark.engine.text_generation import MARGIN_TOKENS, greedy_outputs, normalise
from benchmark.engine.text_scoring import shared_prompt_loglik
from benchmark.model.backbones import Backbone
from benchmark.model.batching import eval_batch_indices
from benchmark.model.encoding import EncodedTask
from benchmark.model.task_model import TaskModel, eval_mode


def competing_classes(tasks: list[EncodedTask], row: int, column: int, setting: str) -> list[int]:
    """The classes (answer indices) that compete when task ``column`` is scored at ``row``."""
    task = tasks[column]
    if setting != "class_incremental":
        return list(task.text.own_classes)
    return sorted({c for seen in tasks[: max(row, column + 1)] for c in seen.text.own_classes})


@dataclass(frozen=True)
class TextEval:
    """How text accuracy is taken: the decoding rule and the run's evaluation settings."""

    decode: str
    backbone: Backbone
    batch_size: int
    precision: str = "fp32"
    parallel: Parallel | None = None


def _rank_counts(model: TaskModel, task: EncodedTask, classes: list[int], prompts: list[list[int]], labels: list[int], pad_id: int) -> tuple[float, float]:
    scores = shared_prompt_loglik(model, prompts, [task.answers[c] for c in classes], pad_id, task.head)
    sizes = torch.tensor([len(task.text.answer_texts[c].encode("utf-8")) for c in classes], dtype=torch.float32, device=scores.device)
    gold = torch.tensor([classes.index(y) for y in labels], device=scores.device)
    return float((scores.argmax(1) == gold).sum()), float(((scores / sizes).argmax(1) == gold).sum())


def _greedy_counts(model: TaskModel, task: EncodedTask, classes: list[int], prompts: list[list[int]], labels: list[int], how: TextEval) -> tuple[float, float]:
    longest = max(len(task.answers[c]) for c in classes)
    outputs = greedy_outputs(model, prompts, how.backbone.tokenizer, max_new_tokens=longest + MARGIN_TOKENS, head=task.head)
    by_text = {normalise(task.text.answer_texts[c]): c for c in classes}
    chosen = [by_text.get(normalise(o)) for o in outputs]
    return float(sum(c == y for c, y in zip(chosen, labels))), float(sum(c is None for c in chosen))


def text_task_accuracy(model: TaskModel, task: EncodedTask, classes: list[int], how: TextEval) -> dict[str, float]:
    """``accuracy`` and ``accuracy_per_byte`` (rank) or ``invalid_outputs`` (greedy) on ``task``'s test split.

    The prompts are the model's context for the task when it holds one (``icl``), else the task's own.
    """
    prompts = model.contexts.get(task.name, task.test.input_ids)
    batches = eval_batch_indices([len(p) for p in prompts], how.batch_size)
    first = second = 0.0
    device = model_device(model)
    with eval_mode(model), torch.inference_mode(), autocast(how.precision, device):
        for indices in how.parallel.shard(batches) if how.parallel is not None else batches:
            picked, labels = [prompts[i] for i in indices], [task.test.labels[i] for i in indices]
            if how.decode == "greedy":
                got = _greedy_counts(model, task, classes, picked, labels, how)
            else:
                got = _rank_counts(model, task, classes, picked, labels, how.backbone.pad_id)
            first, second = first + got[0], second + got[1]
    first, second = summed_over_processes(how.parallel, first, second)
    n = len(task.test)
    return {"accuracy": first / n, "accuracy_per_byte" if how.decode == "rank" else "invalid_outputs": second / n}
