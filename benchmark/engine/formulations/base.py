"""The formulation contract: how a task is posed to the model, learned and scored.

A formulation decides everything that depends on how a task is asked: which model
kinds can answer it, what the backbone gets on top (a linear head per task, or
nothing: the LM head answers), how a task's examples are encoded, the training loss
of a batch, how a test column is scored (accuracy, per-example outcomes and any
series of its own), what it adds to a run's fingerprint and what row 0 means. The
engine asks the formulation and never tests its name, so a new way of posing tasks
is one more implementation registered here (a test over every module enforces it).

Built-in formulations: ``heads`` (:mod:`.heads`), ``text`` (:mod:`.text`) and ``generate``
(:mod:`.generate`); a
third-party one registers through the ``forgetbench.formulations`` entry-point group
or with :func:`register_formulation` in a ``--plugins`` module.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable
from dataclasses import dataclass
from typing import ClassVar

import torch

from benchmark.core.config import SuiteConfig
from benchmark.core.errors import UserError
from benchmark.core.registry import Registry
from benchmark.engine.parallel import Parallel
from benchmark.engine.representations import LayerFeatures
from benchmark.model.backbones import Backbone
from benchmark.model.encoding import EncodedTask
from benchmark.model.task_model import TaskModel
from scenarios.prepare import TaskDataset
from scenarios.spec import ScenarioSpec, TaskSpec


@dataclass(frozen=True)
class Scoring:
    """The settings a test column is scored under (the same for every column of a run).

    Attributes:
        backbone: The pretrained backbone (its tokenizer and pad id).
        config: The suite (decoding rule, setting, evaluation batch size).
        precision: Autocast precision of evaluation.
        parallel: The run's processes (None: this one alone).
    """

    backbone: Backbone
    config: SuiteConfig
    precision: str = "fp32"
    parallel: Parallel | None = None


class Formulation(ABC):
    """How tasks are posed: one instance per formulation, stateless.

    Class attributes:
        name: The name ``--formulation`` takes.
        row0: What row 0 (the model before any task) means in this formulation.
        scores_from_features: Whether a column can be scored from the final-layer
            features other measures of the same point read (one pass, not two).
        default_decode: The decoding rule of a run that names none (``--decode``).
        free_text: Whether it poses tasks answered in free text (``answer_field``).
    """

    name: ClassVar[str]
    row0: ClassVar[str]
    scores_from_features: ClassVar[bool] = False
    default_decode: ClassVar[str] = "rank"
    free_text: ClassVar[bool] = False

    def check_scenario(self, spec: ScenarioSpec) -> None:
        """Raises a UserError for a task of ``spec`` this formulation cannot pose (default: free-text tasks)."""
        if self.free_text:
            return
        for task in spec.tasks:
            if task.free_text:
                raise UserError(
                    f"scenario {spec.name!r}: task {task.name!r} is answered in free text (answer_field), which --formulation {self.name} "
                    "cannot pose; pass --formulation generate"
                )

    def check_config(self, config: SuiteConfig) -> None:
        """Raises a UserError for a setting that cannot apply in this formulation (default: all apply)."""

    @abstractmethod
    def check_backbone(self, config: SuiteConfig, kind: str) -> None:
        """Raises a UserError if a model of ``kind`` (causal, encoder, seq2seq) cannot pose tasks this way."""

    def vocabulary_texts(self, spec: ScenarioSpec) -> list[str]:
        """Texts beyond the examples that a data-built tokenizer must know (default: none)."""
        return []

    @abstractmethod
    def encode_tasks(
        self, backbone: Backbone, datasets: list[TaskDataset], spec: ScenarioSpec, ordered: list[TaskSpec], setting: str,
    ) -> list[EncodedTask]:
        """``datasets`` (in training order, one per task of ``ordered``) as the tasks a run trains and scores."""

    def head_sizes(self, tasks: list[EncodedTask]) -> dict[str, int]:
        """Classes of each head the model gets on top of the backbone, by head name (default: none)."""
        return {}

    def fingerprint_parts(self, config: SuiteConfig, tasks: list[EncodedTask]) -> dict[str, object]:
        """What this formulation adds to a run's fingerprint and row-0 key (default: its name, so no two formulations share one)."""
        return {"formulation": self.name}

    def before_training(self, model: TaskModel, tasks: list[EncodedTask]) -> None:
        """Called before the model trains on ``tasks`` (default: nothing)."""

    @abstractmethod
    def loss(self, model: TaskModel, batch: dict[str, object], head: str) -> tuple[torch.Tensor, torch.Tensor]:
        """A batch's plain task loss (no strategy penalty) and the logits it came from."""

    def extra_series(self, config: SuiteConfig) -> tuple[str, ...]:
        """Per-task series the accuracy measure stores beside ``accuracy`` and ``outcomes`` (default: none)."""
        return ()

    @abstractmethod
    def score(self, model: TaskModel, tasks: list[EncodedTask], row: int, column: int, scoring: Scoring) -> dict[str, float | str]:
        """``accuracy``, its ``outcomes`` cell and the extra series of task ``column`` measured at ``row``."""

    def record_extra(self, tasks: list[EncodedTask]) -> dict[str, object]:
        """What the record's ``extra`` holds of this formulation's tasks (default: nothing)."""
        return {}

    def score_features(self, model: TaskModel, task: EncodedTask, features: Callable[[], LayerFeatures], scoring: Scoring) -> dict[str, float | str]:
        """:meth:`score` from the shared final-layer features (only where ``scores_from_features``)."""
        raise NotImplementedError(f"the {self.name} formulation scores from its own pass")


FORMULATIONS: Registry[Formulation] = Registry(
    "formulation", where="--formulation",
    builtin_modules=("benchmark.engine.formulations.heads", "benchmark.engine.formulations.text", "benchmark.engine.formulations.generate"),
    entry_point_group="forgetbench.formulations",
)


def register_formulation(cls: type[Formulation]) -> type[Formulation]:
    """Class decorator: registers one instance of ``cls`` under ``cls.name``."""
    FORMULATIONS.add(cls.name, cls())
    return cls


def formulation(name: str) -> Formulation:
    """The registered formulation ``name`` (a UserError with close matches if there is none)."""
    return FORMULATIONS.get(name)
