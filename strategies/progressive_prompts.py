"""``progressive_prompts``: a soft prompt per task, earlier ones frozen and kept in front (Razdaibiedina et al., ICLR 2023)."""

from __future__ import annotations

import dataclasses
from typing import Any

import torch
from torch import nn

from benchmark.core.errors import UserError
from benchmark.core.hashing import derived_seed
from benchmark.model.backbones import Backbone
from benchmark.model.encoding import EncodedSplit, EncodedTask
from benchmark.model.task_model import TaskModel, hidden_size
from strategies.base import Strategy, register_strategy
from strategies.virtual_tokens import VirtualTokens, vocabulary_rows


def prefixed(split: EncodedSplit, prefix: list[int]) -> EncodedSplit:
    """``split`` with ``prefix`` put before every prompt (answers and labels unchanged)."""
    return EncodedSplit([prefix + list(ids) for ids in split.input_ids], list(split.labels), split.answers, split.layout)


@register_strategy("progressive_prompts")
class ProgressivePrompts(Strategy):
    """Prompt tuning with the backbone frozen: task t learns ``prompt_length`` new input vectors P_t, put before P_(t-1) ... P_1.

    The input of task t is [P_t; P_(t-1); ...; P_1; x] (the newest prompt first, as the
    authors' code concatenates it); only P_t trains, the earlier prompts are frozen, and
    after task t every task is scored with the whole progressive prompt learned so far
    (the authors' evaluation: no task identity at test time). Each new prompt starts from
    the input embeddings of random vocabulary tokens (seeded by run seed and task) and
    trains at its own ``prompt_lr`` (0.3, the authors' T5 setting; ``prompt_length`` 10
    as in their example runs). The language-model path sees no prompt, so general-corpus
    perplexity stays the pretrained model's exactly. Text and generate formulations.
    Differences: no residual MLP reparameterisation of the prompt and no early stopping on
    a validation split (the paper uses both in some runs; the harness trains a fixed budget
    and keeps the last prompt); peft's prompt tuning is not used because the harness
    scores through the model's body and a shared-prefix KV cache, past peft's wrapper, so
    the prompt tokens are virtual token ids instead (:mod:`strategies.virtual_tokens`).
    """

    trains_backbone = False
    formulations = ("text", "generate")

    def __init__(self, *, prompt_length: int = 10, prompt_lr: float = 0.3) -> None:
        if prompt_length < 1 or prompt_lr <= 0:
            raise ValueError("prompt_length must be >= 1 and prompt_lr > 0")
        self.prompt_length, self.prompt_lr = prompt_length, prompt_lr
        self.prompt_ids: dict[str, list[int]] = {}  # task name -> its prompt's virtual ids, in the order learned
        self.learned: list[str] = []

    def check_tasks(self, tasks: list[EncodedTask], backbone: Backbone, seed: int) -> None:
        """Refuses prompts that, with every task's soft prompt in front, would not fit the model's positions."""
        limit = backbone.max_positions
        if limit is None:
            return
        for task in tasks:
            longest = max(task.train.lengths + task.test.lengths)
            answer = task.generation.max_new_tokens if task.generation else max(map(len, task.train.answers or [[]]))
            need = longest + self.prompt_length * len(tasks) + answer
            if need > limit:
                raise UserError(
                    f"strategy 'progressive_prompts': task {task.name!r}'s prompts with {len(tasks)} soft prompts of "
                    f"{self.prompt_length} tokens in front reach {need} tokens, more than the {limit} positions of model "
                    f"{backbone.name!r}; lower strategy_args.progressive_prompts.prompt_length or the task's max_length"
                )

    def wrap_model(self, model: TaskModel) -> TaskModel:
        model.requires_grad_(False)
        self.tokens = VirtualTokens.of(model)
        self.model = model
        return model

    def added_parameters(self, backbone: nn.Module, tasks: int) -> int:
        return self.prompt_length * hidden_size(backbone) * tasks

    def before_task(self, model: TaskModel, task: EncodedTask) -> None:
        if task.name not in self.prompt_ids:
            generator = torch.Generator().manual_seed(derived_seed(self.run.seed, "progressive prompt", task.name))
            self.prompt_ids[task.name] = self.tokens.add(vocabulary_rows(model, self.prompt_length, generator), own_learning_rate=self.prompt_lr)
        current = self.prompt_ids[task.name][0]
        for block, first in zip(self.tokens.blocks, self._block_starts()):
            block.vectors.requires_grad_(first == current)

    def _block_starts(self) -> list[int]:
        starts, at = [], self.tokens.first_id
        for block in self.tokens.blocks:
            starts.append(at)
            at += len(block.vectors)
        return starts

    def prefix(self, newest: str | None = None) -> list[int]:
        """The progressive prompt's ids: ``newest``'s prompt (if given), then every learned one from the latest back."""
        names = ([newest] if newest is not None else []) + [n for n in reversed(self.learned) if n != newest]
        return [i for name in names for i in self.prompt_ids[name]]

    def training_task(self, model: TaskModel, task: EncodedTask) -> EncodedTask:
        return dataclasses.replace(task, train=prefixed(task.train, self.prefix(newest=task.name)))

    def after_task(self, model: TaskModel, task: EncodedTask) -> None:
        for block in self.tokens.blocks:
            block.vectors.requires_grad_(False)
        if task.name not in self.learned:
            self.learned.append(task.name)
        self._score_with_prompt()

    def _score_with_prompt(self) -> None:
        """Every task of the run is scored from now on with the progressive prompt in front of its test prompts."""
        prefix = self.prefix()
        for task in self.run.tasks:
            self.model.contexts[task.name] = [prefix + list(ids) for ids in task.test.input_ids]

    def state_dict(self) -> dict[str, Any]:
        return {"prompt_ids": self.prompt_ids, "learned": self.learned}  # the vectors travel with the model's weights

    def load_state_dict(self, state: dict[str, Any]) -> None:
        width = hidden_size(self.model.backbone)
        for name, ids in state["prompt_ids"].items():  # re-made in the same order, so the same ids; the checkpoint fills them
            if name not in self.prompt_ids:
                self.prompt_ids[name] = self.tokens.add(torch.zeros(len(ids), width), own_learning_rate=self.prompt_lr)
                assert self.prompt_ids[name] == ids, "virtual ids are given out in the order the prompts were made"
        self.learned = list(state["learned"])
        for block in self.tokens.blocks:
            block.vectors.requires_grad_(False)
        if self.learned:
            self._score_with_prompt()
