"""``lamol``: language modelling for lifelong language learning (LAMOL, Sun et al., ICLR 2020)."""

from __future__ import annotations

import dataclasses
import math
from typing import Any

import torch
import torch.nn.functional as F

from benchmark.core.errors import UserError
from benchmark.core.hashing import derived_seed
from benchmark.model.backbones import Backbone
from benchmark.model.encoding import EncodedSplit, EncodedTask
from benchmark.model.task_model import TaskModel
from strategies.base import Batch, MemoryProfile, Strategy, register_strategy
from strategies.pseudo_examples import PseudoExample, common_end, sample_examples, split_example
from strategies.virtual_tokens import VirtualTokens, vocabulary_rows


@register_strategy("lamol")
class LAMOL(Strategy):
    """The model learns each task and to write the task's examples; before a new task it writes examples of the earlier ones.

    Loss per batch: the answer loss (the text formulation's) + ``lm_lambda`` x the
    language-model loss of the whole example after its task's generation token,
    [GEN_task] prompt answer (mean over the predicted tokens, LAMOL's ``lm_lambda`` 0.25).
    Before task t > 1, ``gamma`` x (t's training examples) pseudo-examples are sampled
    (top-k 20, temperature 1, seeded), split equally between the earlier tasks and each
    started from that task's generation token (LAMOL_t, the task-token variant); those
    that split into a prompt and an answer of their task (:mod:`strategies.pseudo_examples`)
    are trained on with task t's examples, with both losses. The record's
    ``extra.strategy.lamol`` holds how many were generated and parsed before each task.

    Differences from the paper: the answer mark is the end the task's prompts share
    instead of a new ``__ans__`` token; a generation token is a virtual input token
    (:mod:`strategies.virtual_tokens`) started from a random vocabulary row, not a new
    vocabulary entry; a pseudo-example is at most as long as the task's longest training
    example (a smaller generation budget than LAMOL's whole context: CPU time); its
    classification answers must be one of the task's to count as parsed; LAMOL's
    5x loss weight on ``__ans__`` has no counterpart. Decoder-only models.
    """

    formulations = ("text", "generate")
    needs_lm_head = True

    def __init__(self, *, lm_lambda: float = 0.25, gamma: float = 0.2) -> None:
        if lm_lambda < 0 or gamma < 0:
            raise ValueError("lm_lambda and gamma must be >= 0")
        self.lm_lambda, self.gamma = lm_lambda, gamma
        self.longest: dict[str, int] = {}  # task -> its longest training example, in tokens (the generation budget)
        self.report: dict[str, dict[str, int]] = {}  # task -> pseudo-examples generated and parsed before it
        self.example_tokens: list[int] = []  # the generation token of every example of the split being trained

    def check_backbone(self, backbone: Backbone) -> None:
        if backbone.kind != "causal":
            raise UserError(f"strategy 'lamol' trains a decoder to write whole examples; model {backbone.name!r} is {backbone.kind}: use a causal LM")

    def check_tasks(self, tasks: list[EncodedTask], backbone: Backbone, seed: int) -> None:
        for task in tasks:
            if not common_end(task.train.input_ids):
                raise UserError(
                    f"strategy 'lamol' splits generated examples where the task's prompts end alike, but task {task.name!r}'s "
                    "prompts share no ending; give the task a prompt template that ends the same way for every example"
                )

    def wrap_model(self, model: TaskModel) -> TaskModel:
        names = [t.name for t in self.run.tasks]
        generator = torch.Generator().manual_seed(derived_seed(self.run.seed, "lamol tokens"))
        ids = VirtualTokens.of(model).add(vocabulary_rows(model, len(names), generator))  # trained with the model, at its rate
        self.generation_token = dict(zip(names, ids))
        self.tokenizer = self.run.backbone.tokenizer
        return model

    def training_task(self, model: TaskModel, task: EncodedTask) -> EncodedTask:
        own = [task.train.answers[y] for y in task.train.labels] if task.train.answers else []
        pseudo = self.pseudo_examples(model, task)
        split = EncodedSplit(
            [list(p) for p in task.train.input_ids] + [e.prompt for e in pseudo], list(range(len(own) + len(pseudo))),
            own + [e.answer for e in pseudo], task.train.layout,
        )
        self.example_tokens = [self.generation_token[task.name]] * len(own) + [self.generation_token[e.task] for e in pseudo]
        return dataclasses.replace(task, train=split)

    def pseudo_examples(self, model: TaskModel, task: EncodedTask) -> list[PseudoExample]:
        """Examples of every earlier task written by the model, equal shares of ceil(gamma x task size) (LAMOL's rounding)."""
        earlier = list(self.run.tasks[: task.index])
        if not earlier or self.gamma == 0:
            return []
        share = math.ceil(self.gamma * len(task.train)) // len(earlier)
        pad, eos = int(self.tokenizer.pad_token_id), int(self.tokenizer.eos_token_id)
        kept: list[PseudoExample] = []
        for old in earlier:
            seed = derived_seed(self.run.seed, "lamol samples", task.name, old.name)
            mark, answers = common_end(old.train.input_ids), old.train.answers if old.generation is None else None
            written = sample_examples(
                model, self.generation_token[old.name], share, max_new_tokens=self.longest[old.name], pad=pad, eos=eos, seed=seed,
                answer_mark=mark,
            )
            for tokens in written:
                parts = split_example(tokens, mark, eos)
                if parts is not None and (answers is None or parts[1] in answers):
                    kept.append(PseudoExample(old.name, *parts))
        self.report[task.name] = {"generated": share * len(earlier), "parsed": len(kept)}
        return kept

    def penalty(self, model: TaskModel, batch: Batch, outputs: torch.Tensor) -> torch.Tensor | None:
        if self.lm_lambda == 0:
            return None
        ids, mask = batch["input_ids"], batch["attention_mask"]
        tokens = torch.tensor([self.example_tokens[i] for i in batch["labels"].tolist()], device=ids.device)[:, None]
        ids, mask = torch.cat([tokens, ids], dim=1), torch.cat([torch.ones_like(tokens), mask], dim=1)
        logits = model.backbone(input_ids=ids, attention_mask=mask, use_cache=False).logits
        targets = ids[:, 1:].masked_fill(mask[:, 1:] == 0, -100)  # the whole example after its generation token
        return self.lm_lambda * F.cross_entropy(logits[:, :-1].float().flatten(0, 1), targets.flatten(), ignore_index=-100)

    def after_task(self, model: TaskModel, task: EncodedTask) -> None:
        answers = [task.train.answers[y] for y in task.train.labels] if task.train.answers else [[]] * len(task.train)
        self.longest[task.name] = max(len(p) + len(a) for p, a in zip(task.train.input_ids, answers))

    def record_extra(self) -> dict[str, Any]:
        return {"lamol": {"pseudo_examples": self.report}}

    def state_dict(self) -> dict[str, Any]:
        return {"longest": self.longest, "report": self.report}  # the generation tokens travel with the model's weights

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.longest, self.report = dict(state["longest"]), dict(state["report"])

    def memory_profile(self, batch_size: int) -> MemoryProfile:
        return MemoryProfile(lm_passes=1)  # the LM pass over the batch, its vocabulary logits kept for backward
