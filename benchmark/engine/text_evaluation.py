"""Accuracy of a task posed as text: which answers compete, and how the winner is chosen.

Task-incremental: the task's own answers compete. Class-incremental: the answers of
every task seen so far (row i, column j: tasks 1..max(i, j), so a task is never scored
without its own answers). Rank classification reports two variants of the same pass:
``accuracy`` (highest summed log-likelihood, lm-evaluation-harness's ``acc``) and
``accuracy_per_byte`` (log-likelihood per UTF-8 byte of the answer string, its
``acc_norm``-style length correction). Greedy decoding reports exact match and the
share of outputs that are no valid answer at all. Every variant keeps the class it chose
for each example: ``accuracy``'s choices are stored as the per-example ``outcomes``.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

from benchmark.engine.evaluation import autocast, gathered_choices, model_device, shares
from benchmark.engine.parallel import Parallel
from benchmark.engine.text_generation import MARGIN_TOKENS, greedy_outputs
from benchmark.core.answer_text import normalise_answer as normalise
from benchmark.engine.text_scoring import shared_prompt_loglik
from benchmark.model.backbones import Backbone
from benchmark.model.batching import eval_batch_indices
from benchmark.model.encoding import EncodedTask
from benchmark.model.task_model import TaskModel, eval_mode
from benchmark.results.outcomes import NOTHING_CHOSEN, SERIES as OUTCOMES, scored


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


def _rank_choices(model: TaskModel, task: EncodedTask, classes: list[int], prompts: list[list[int]], pad_id: int) -> tuple[list[int], list[int]]:
    """The class each prompt's answers rank first by summed log-likelihood, and by log-likelihood per byte."""
    scores = model.whole_model_pass(shared_prompt_loglik, prompts, [task.answers[c] for c in classes], pad_id, task.head)
    sizes = torch.tensor([len(task.text.answer_texts[c].encode("utf-8")) for c in classes], dtype=torch.float32, device=scores.device)
    return [classes[k] for k in scores.argmax(1).tolist()], [classes[k] for k in (scores / sizes).argmax(1).tolist()]


def _greedy_choices(model: TaskModel, task: EncodedTask, classes: list[int], prompts: list[list[int]], how: TextEval) -> list[int]:
    """The class each prompt's greedy output spells (-1: it matches no answer)."""
    longest = max(len(task.answers[c]) for c in classes)
    outputs = greedy_outputs(model, prompts, how.backbone.tokenizer, max_new_tokens=longest + MARGIN_TOKENS, head=task.head)
    by_text = {normalise(task.text.answer_texts[c]): c for c in classes}
    return [by_text.get(normalise(o), NOTHING_CHOSEN) for o in outputs]


def text_task_accuracy(model: TaskModel, task: EncodedTask, classes: list[int], how: TextEval) -> dict[str, float | str]:
    """``accuracy`` with its ``outcomes`` cell, and ``accuracy_per_byte`` (rank) or ``invalid_outputs`` (greedy), on ``task``'s test split.

    The prompts are the model's context for the task when it holds one (``icl``), else the task's own.
    """
    prompts = model.contexts.get(task.name, task.test.input_ids)
    batches = eval_batch_indices([len(p) for p in prompts], how.batch_size)
    chosen: dict[int, int] = {}
    second: dict[int, int] = {}  # rank: the per-byte choice; greedy: unused (invalid outputs are the -1 choices)
    device = model_device(model)
    with eval_mode(model), torch.inference_mode(), autocast(how.precision, device):
        for indices, counted in shares(how.parallel, batches, model):
            picked = [prompts[i] for i in indices]
            if how.decode == "greedy":
                first, per_byte = _greedy_choices(model, task, classes, picked, how), None
            else:
                first, per_byte = _rank_choices(model, task, classes, picked, how.backbone.pad_id)
            if not counted:  # a sharded model's fill pass: made like the others, its result discarded
                continue
            chosen.update(zip(indices, first))
            if per_byte is not None:
                second.update(zip(indices, per_byte))
    n = len(task.test)
    choices = gathered_choices(how.parallel, n, chosen)
    accuracy, cell = scored(task.test.labels, choices)
    if how.decode == "greedy":
        return {"accuracy": accuracy, "invalid_outputs": choices.count(NOTHING_CHOSEN) / n, OUTCOMES: cell}
    per_byte_choices = gathered_choices(how.parallel, n, second)
    per_byte = sum(c == y for c, y in zip(per_byte_choices, task.test.labels)) / n
    return {"accuracy": accuracy, "accuracy_per_byte": per_byte, OUTCOMES: cell}
