"""Bottleneck adapters (Houlsby et al. 2019) inserted around existing backbone modules.

Written here because the AdapterHub ``adapters`` package (1.3.0) pins transformers 4.57
and forgetbench needs transformers 5; the module is ~40 lines.
"""

from __future__ import annotations

import torch
from torch import nn

from benchmark.model.task_model import HeadRouter


class Bottleneck(nn.Module):
    """x + up(act(down(x))); ``up`` starts at zero, so a new adapter is exactly the identity."""

    def __init__(self, width: int, size: int, generator: torch.Generator) -> None:
        super().__init__()
        self.down = nn.Linear(width, size)
        self.up = nn.Linear(size, width)
        self.act = nn.SiLU()
        with torch.no_grad():
            self.down.weight.normal_(0.0, width**-0.5, generator=generator)
            self.down.bias.zero_()
            self.up.weight.zero_()
            self.up.bias.zero_()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x + self.up(self.act(self.down(x)))


class AdapterSlot(nn.Module):
    """Wraps a backbone module and applies the adapter of the active head to its output.

    ``per_task`` slots keep one adapter per head and use the one the router names;
    shared slots keep one adapter used for every head. With no active head (the
    language-model path with heads) no adapter runs, so language modelling sees the
    pristine backbone; in the text formulation the language-model path keeps the set
    of the task trained last (:attr:`TaskModel.lm_route`).
    """

    SHARED = "shared"

    def __init__(self, base: nn.Module, router: HeadRouter, *, per_task: bool) -> None:
        super().__init__()
        self.base = base
        self.adapters = nn.ModuleDict()
        self.per_task = per_task
        self._router = router  # a plain object: not registered as a submodule

    def key(self) -> str | None:
        """The adapter to apply now, or None."""
        active = self._router.active
        if active is None:
            return None
        return active if self.per_task else self.SHARED

    def forward(self, *args: object, **kwargs: object) -> object:
        out = self.base(*args, **kwargs)
        key = self.key()
        if key is None or key not in self.adapters:
            return out
        return self.adapters[key](out)
