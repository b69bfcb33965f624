"""What the formulations that answer through the language model's own head share (``text`` and ``generate``).

Both refuse a masked-LM encoder, need the prompts' words in a data-built tokenizer,
route the language model through the last task's modules, and learn the answer tokens
after each prompt. They differ in how a test column is scored.
"""

from __future__ import annotations

from typing import ClassVar

import torch

from benchmark.core.config import SuiteConfig
from benchmark.core.errors import UserError
from benchmark.engine.formulations.base import Formulation
from benchmark.model.encoding import EncodedTask
from benchmark.model.task_model import TaskModel
from scenarios.prompts import task_prompt
from scenarios.spec import ScenarioSpec


class LanguageModelAnswers(Formulation):
    """Base of the formulations whose answers come from the language model's head (not registered itself).

    Class attributes:
        encoder_advice: What a user with a masked-LM encoder should use instead.
    """

    encoder_advice: ClassVar[str] = "use a causal LM (e.g. smollm2-135m) or a seq2seq model (e.g. a T5)"

    def check_backbone(self, config: SuiteConfig, kind: str) -> None:
        if kind == "encoder":
            raise UserError(
                f"--formulation {self.name} scores answers with a language model's head, but model {config.model!r} is a masked-LM "
                f"encoder; {self.encoder_advice}"
            )

    def vocabulary_texts(self, spec: ScenarioSpec) -> list[str]:
        """The prompts' templates, instructions and answers, and the roles of a chat template."""
        prompts = [task_prompt(spec, task) for task in spec.tasks]
        return ["system user assistant"] + [" ".join([p.template, p.instruction or "", *p.answers]) for p in prompts]

    def before_training(self, model: TaskModel, tasks: list[EncodedTask]) -> None:
        model.lm_route = tasks[-1].head  # the language model is the task modules' model now (see TaskModel)

    def loss(self, model: TaskModel, batch: dict[str, object], head: str) -> tuple[torch.Tensor, torch.Tensor]:
        """The mean over the answer tokens of the batch (prompt tokens carry none), with the answer positions' vocabulary logits."""
        return model.answer_loss(batch, head)
