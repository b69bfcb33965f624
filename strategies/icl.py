"""``icl``: in-context learning, the reference row that changes no weight (TRACE's ICL baseline)."""

from __future__ import annotations

import torch

from benchmark.core.errors import UserError
from benchmark.core.hashing import derived_seed
from benchmark.model.backbones import Backbone
from benchmark.model.encoding import EncodedTask
from benchmark.model.prompt_encoding import Demonstration, PromptEncoder
from benchmark.model.task_model import TaskModel
from strategies.base import Strategy, register_strategy


@register_strategy("icl")
class InContext(Strategy):
    """No training: after task t, task t is scored with ``shots`` demonstrations from its training split.

    Text and generate formulations. "Learning" a task is being shown ``shots`` of its training
    examples (one per class in turn, each drawn at random with a generator seeded by
    the run's seed and the task), put before every test prompt: as ``prompt answer``
    blocks in plain prompts, as earlier user/assistant turns in chat prompts. Tasks not
    yet seen are scored zero-shot, so BWT is 0 by construction and the learning
    accuracy is the few-shot accuracy of the pretrained model (Wang et al. 2023, TRACE).
    """

    reference = True
    trains_backbone = False
    resumable = False  # nothing to save: an interrupted run is redone in the time of its evaluations
    formulations = ("text", "generate")
    shardable = True  # no training; its longer prompts are scored like any other

    def __init__(self, *, shots: int = 4) -> None:
        if shots < 1:
            raise ValueError("shots must be >= 1")
        self.shots = shots

    def wrap_model(self, model: TaskModel) -> TaskModel:
        model.requires_grad_(False)
        return model

    def check_tasks(self, tasks: list[EncodedTask], backbone: Backbone, seed: int) -> None:
        """Refuses demonstrations that would not fit the model: the longest test prompt with them, and the longest answer."""
        limit = backbone.max_positions
        if limit is None:
            return
        for task in tasks:
            longest = max(range(len(task.test.input_ids)), key=lambda k: len(task.test.input_ids[k]))
            text, pair = task.text.test_texts[longest]
            encoder = PromptEncoder(backbone.tokenizer, task.text.prompt, task.text.max_length, backbone.name)
            (prompt,) = encoder.prompts([text], None if pair is None else [pair], self.demonstrations(task, seed))
            need = len(prompt) + max(map(len, task.test.answers or [[]]))
            if need > limit:
                raise UserError(
                    f"strategy 'icl': task {task.name!r}'s test prompts with {self.shots} demonstrations reach {need} tokens, more than the "
                    f"{limit} positions of model {backbone.name!r}; lower strategy_args.icl.shots or the task's max_length"
                )

    def demonstrations(self, task: EncodedTask, seed: int | None = None) -> list[Demonstration]:
        """``shots`` training examples of ``task``, cycling over its classes (drawn with the run's seed unless ``seed`` is given)."""
        generator = torch.Generator().manual_seed(derived_seed(self.run.seed if seed is None else seed, "icl", task.name))
        by_class = {c: [e for e in task.text.train_texts if e[2] == c] for c in task.text.own_classes}
        pools = {c: [pool[i] for i in torch.randperm(len(pool), generator=generator).tolist()] for c, pool in by_class.items() if pool}
        classes, picked = sorted(pools), []
        for k in range(self.shots):
            pool = pools[classes[k % len(classes)]]
            if k // len(classes) < len(pool):
                text, pair, label = pool[k // len(classes)]
                picked.append((text, pair, task.text.answer_texts[label]))
        return [picked[i] for i in torch.randperm(len(picked), generator=generator).tolist()]  # no class always shown last

    def after_task(self, model: TaskModel, task: EncodedTask) -> None:
        backbone = self.run.backbone
        encoder = PromptEncoder(backbone.tokenizer, task.text.prompt, task.text.max_length, backbone.name)
        texts = [t for t, _ in task.text.test_texts]
        pairs = [p for _, p in task.text.test_texts] if task.text.test_texts and task.text.test_texts[0][1] is not None else None
        model.contexts[task.name] = encoder.prompts(texts, pairs, self.demonstrations(task))
