"""What a strategy may read about the run it is part of (never changes the run)."""

from __future__ import annotations

from dataclasses import dataclass

import torch

from benchmark.backbones import Backbone
from benchmark.config import TrainConfig
from benchmark.encoding import EncodedCorpus, EncodedTask
from benchmark.parallel import Parallel


@dataclass
class RunContext:
    """Shared, read-only facts of one run, handed to a strategy by :meth:`Strategy.bind`.

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
    """

    seed: int
    train: TrainConfig
    backbone: Backbone
    tasks: list[EncodedTask]
    corpus: EncodedCorpus | None
    general_texts: list[str]
    device: torch.device
    parallel: Parallel | None = None

    @property
    def pad_id(self) -> int:
        """The padding token id."""
        return self.backbone.pad_id
