"""What one run is made of besides its plan: the suite's shared parts, as the run and its strategy see them."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import torch

from benchmark.core.config import SuiteConfig, TrainConfig
from benchmark.engine.parallel import Parallel
from benchmark.model.backbones import Backbone
from benchmark.model.encoding import EncodedCorpus, EncodedTask
from scenarios.spec import ScenarioSpec

if TYPE_CHECKING:  # the measures import the engine's evaluation, which a strategy never needs
    from benchmark.engine.measures import Measure, MeasureEnv


@dataclass
class RunContext:
    """Shared, read-only facts of one run; a strategy gets them through :meth:`Strategy.bind`.

    Attributes:
        seed: The run's seed.
        train: The training configuration every task uses.
        backbone: The pristine pretrained backbone (tokenizer, kind); never train it.
        tasks: All tasks of the run, in order (``joint`` trains on all of them).
        corpus: The scored perplexity windows (read-only; never train on them).
        general_texts: General-corpus documents *not* scored for perplexity, for
            strategies that protect pretraining knowledge (EWC on the LM, distillation).
        device: Where the model lives.
        parallel: The processes the run is spread over (None: this process alone). State
            computed from data (a Fisher, a buffer) must be the same on every process.
        config: The suite's whole configuration.
        spec: The scenario (its name and version go into the record).
        measures: What is measured after each task, by name (see :mod:`benchmark.engine.measures`).
        measure_env: What the measures are handed: backbone, corpus, settings, processes.
        environment: Facts of the machine and packages, for the record.
        progress: Show per-task progress bars.
    """

    seed: int
    train: TrainConfig
    backbone: Backbone
    tasks: list[EncodedTask]
    corpus: EncodedCorpus | None
    general_texts: list[str]
    device: torch.device
    parallel: Parallel | None = None
    config: SuiteConfig = field(default_factory=SuiteConfig)
    spec: ScenarioSpec | None = None
    measures: dict[str, Measure] = field(default_factory=dict)
    measure_env: MeasureEnv | None = None
    environment: dict[str, Any] = field(default_factory=dict)
    progress: bool = False

    @property
    def pad_id(self) -> int:
        """The padding token id."""
        return self.backbone.pad_id
