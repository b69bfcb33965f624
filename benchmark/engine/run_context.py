"""What a strategy sees of its run: :class:`RunContext`, handed over once by :meth:`Strategy.bind`."""

from __future__ import annotations

from dataclasses import dataclass

import torch

from benchmark.core.config import TrainConfig
from benchmark.engine.parallel import Parallel
from benchmark.model.backbones import Backbone
from benchmark.model.encoding import EncodedTask


@dataclass(frozen=True)
class RunContext:
    """The strategy's view of its run: shared, read-only facts (the dataclass is frozen; never change what it holds).

    Attributes:
        seed: The run's seed.
        train: The training configuration every task uses.
        backbone: The pristine pretrained backbone (tokenizer, kind); never train it.
        tasks: All tasks of the run, in order (``joint`` trains on all of them).
        general_texts: General-corpus documents *not* scored for perplexity, for
            strategies that protect pretraining knowledge (EWC on the LM, distillation);
            the ``lm_recovery`` measure trains on the same documents.
        device: Where the model lives.
        parallel: The processes the run is spread over (None: this process alone). State
            computed from data (a Fisher, a buffer) must be the same on every process.
    """

    seed: int
    train: TrainConfig
    backbone: Backbone
    tasks: list[EncodedTask]
    general_texts: list[str]
    device: torch.device
    parallel: Parallel | None = None

    @property
    def pad_id(self) -> int:
        """The padding token id."""
        return self.backbone.pad_id
