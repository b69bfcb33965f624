"""Tasks of the text formulation: prompts as token ids, each class an answer string.

Task-incremental: a task's classes are its own answers. Class-incremental: the classes
are the answer strings of all tasks in order of first appearance (equal strings are one
class, as equal label names are with heads); each task records which of them are its
own, so that scoring can let exactly the answers of the tasks seen so far compete.
"""

from __future__ import annotations

from typing import Literal

from benchmark.core.errors import UserError
from benchmark.model.backbones import Backbone
from benchmark.model.encoding import EncodedSplit, EncodedTask, cached_token_ids
from benchmark.model.prompt_encoding import PromptEncoder, TextTask, prompt_hash
from scenarios.prepare import TaskDataset, TextSplit
from benchmark.core.answer_text import normalise_answer
from scenarios.prompts import TaskPrompt


def union_answers(prompts: list[TaskPrompt]) -> list[str]:
    """Answer strings of all tasks in order of first appearance."""
    names: list[str] = []
    for prompt in prompts:
        names.extend(a for a in prompt.answers if a not in names)
    return names


def check_union(answers: list[str]) -> None:
    """Class-incremental: the union of every task's answers holds no two that greedy decoding cannot tell apart."""
    seen: dict[str, str] = {}
    for answer in answers:
        other = seen.setdefault(normalise_answer(answer), answer)
        if other != answer:
            raise UserError(
                f"--setting class_incremental makes {other!r} and {answer!r} (answers of different tasks) two classes that differ only "
                "in case, spaces or punctuation; give the tasks' answers different words, or use the same string for the same class"
            )


def check_answer_tokens(task: str, classes: list[str], answers: list[list[int]], backbone: Backbone) -> None:
    """Refuses answers the model cannot tell apart: the same tokens (a lower-casing tokenizer), or special tokens inside one."""
    special = set(backbone.tokenizer.all_special_ids)
    for text, ids in zip(classes, answers):
        inside = [t for t in ids[:-1] if t in special]  # the last one is the end-of-sequence token every answer ends with
        if inside:
            tokens = backbone.tokenizer.convert_ids_to_tokens(inside)
            raise UserError(f"task {task!r}: answer {text!r} is or holds the special token(s) {tokens} of model {backbone.name!r}, which is no answer it can learn as text; use plain words")
    seen: dict[tuple[int, ...], str] = {}
    for text, ids in zip(classes, answers):
        other = seen.setdefault(tuple(ids), text)
        if other != text:
            raise UserError(
                f"task {task!r}: answers {other!r} and {text!r} are the same tokens for model {backbone.name!r} (its tokenizer does not tell "
                "them apart), so the model cannot either; give them different words"
            )


def check_lengths(task: str, longest_prompt: int, longest_answer: int, backbone: Backbone) -> None:
    """Refuses a task whose longest prompt and answer do not fit the model's positions (checked before any work)."""
    limit = backbone.max_positions
    need = max(longest_prompt, longest_answer) if backbone.kind == "seq2seq" else longest_prompt + longest_answer  # the decoder holds the answer
    if limit is not None and need > limit:
        raise UserError(
            f"task {task!r}: its longest prompt with its answer is {need} tokens, more than the {limit} positions of model "
            f"{backbone.name!r}; shorten the template or instruction, or lower the task's max_length"
        )


def encode_text_tasks(
    backbone: Backbone, datasets: list[TaskDataset], prompts: list[TaskPrompt],
    setting: Literal["task_incremental", "class_incremental"],
) -> list[EncodedTask]:
    """Tokenises the prompts and answers of one run's tasks in order.

    Args:
        backbone: The model (a causal LM or a seq2seq model) whose tokenizer is used.
        datasets: The tasks' examples, in training order.
        prompts: How each task is posed (:func:`scenarios.prompts.task_prompt`), in the same order.
        setting: ``task_incremental`` or ``class_incremental``.
    """
    shared = union_answers(prompts) if setting == "class_incremental" else None
    if shared is not None:
        check_union(shared)
    layout = "seq2seq" if backbone.kind == "seq2seq" else "causal"
    tasks = []
    for index, (dataset, prompt) in enumerate(zip(datasets, prompts)):
        classes = shared or list(prompt.answers)
        remap = [classes.index(a) for a in prompt.answers]
        encoder = PromptEncoder(backbone.tokenizer, prompt, dataset.spec.max_length, backbone.name, seq2seq=backbone.kind == "seq2seq")
        answers = [encoder.answer_ids(a) for a in classes]
        check_answer_tokens(dataset.spec.name, classes, answers, backbone)
        hashed = prompt_hash(prompt, classes, dataset.spec.max_length)

        def tokenize(split: TextSplit, encoder: PromptEncoder = encoder) -> list[list[int]]:
            return encoder.prompts(split.texts, split.pairs)

        train_ids, test_ids = cached_token_ids(backbone, dataset, tokenize=tokenize, variant=f"text:{hashed}")
        check_lengths(dataset.spec.name, max(map(len, train_ids + test_ids)), max(map(len, answers)), backbone)
        train, test = dataset.train, dataset.test
        raw = [(t, train.pairs[k] if train.pairs is not None else None, remap[y]) for k, (t, y) in enumerate(zip(train.texts, train.labels))]
        raw_test = [(t, test.pairs[k] if test.pairs is not None else None) for k, t in enumerate(test.texts)]
        tasks.append(EncodedTask(
            name=dataset.spec.name, index=index, head="shared" if shared else dataset.spec.name, label_names=classes,
            train=EncodedSplit(train_ids, [remap[y] for y in train.labels], answers, layout),
            test=EncodedSplit(test_ids, [remap[y] for y in dataset.test.labels], answers, layout),
            data_hash=dataset.data_hash, source_hash=dataset.source_hash,
            text=TextTask(prompt=prompt, answer_texts=classes, own_classes=sorted(set(remap)), max_length=dataset.spec.max_length,
                          train_texts=raw, test_texts=raw_test, prompt_hash=hashed),
        ))
    return tasks
