"""``avalanche:<Name>``: Avalanche's strategies run on forgetbench scenarios, models and metrics.

Registering these names imports nothing from avalanche-lib; building one imports the
bridge (:mod:`strategies.avalanche`), which needs the ``[avalanche]`` extra.
Hyper-parameters are the Avalanche constructor's own, under
``strategy_args."avalanche:<Name>"`` (e.g. ``--set strategy_args.avalanche:EWC.ewc_lambda=1e4``);
the bridge supplies the model, optimiser, batch size, epochs and device.
"""

from __future__ import annotations

import importlib.util
from typing import Any, ClassVar

import torch
import yaml

from benchmark.core.config import TrainConfig
from benchmark.model.encoding import EncodedTask
from benchmark.core.errors import UserError
from benchmark.core.keyword_arguments import checked_arguments
from benchmark.model.task_model import TaskModel
from strategies.base import STRATEGIES, MemoryProfile, Strategy, TrainLoop

INSTALL_HINT = "pip install -e \".[avalanche]\" (avalanche-lib 0.6.0; it brings torchvision and a CUDA build of torch)"

# name -> (what it is, defaults for the constructor arguments Avalanche leaves required,
#          backbone-sized float32 copies it keeps, for the memory check)
AVALANCHE_STRATEGIES: dict[str, tuple[str, dict[str, Any], float]] = {
    "Naive": ("Avalanche's plain fine-tuning (cross-checks forgetbench's naive)", {}, 0.0),
    "EWC": ("Avalanche's EWC (squared mini-batch gradient Fisher; its default separate mode anchors to the last task only)",
            {"ewc_lambda": 1e5}, 4.0),
    "LwF": ("Avalanche's Learning without Forgetting (distils the previous model's logits)",
            {"alpha": 1.0, "temperature": 2.0}, 1.0),
    "Replay": ("Avalanche's experience replay (experience-balanced buffer of mem_size examples)", {}, 0.0),
    "SI": ("Avalanche's Synaptic Intelligence (path-integral importance)", {"si_lambda": 1e4}, 4.0),
    "MAS": ("Avalanche's Memory Aware Synapses (output-sensitivity importance)", {}, 2.0),
    "GEM": ("Avalanche's Gradient Episodic Memory (QP projection against each task's memory)",
            {"patterns_per_exp": 32}, 1.0),
    "AGEM": ("Avalanche's Averaged GEM (projection against one reference gradient)",
             {"patterns_per_exp": 32, "sample_size": 32}, 1.0),
}


def avalanche_installed() -> bool:
    """Whether avalanche-lib can be imported (checked without importing it)."""
    return importlib.util.find_spec("avalanche") is not None


def _typed(value: Any) -> Any:
    """``--set`` values arrive as strings; YAML reads them as the number, bool or list they spell."""
    return yaml.safe_load(value) if isinstance(value, str) else value


class AvalancheStrategy(Strategy):
    """Base of the ``avalanche:<Name>`` strategies: the Avalanche template trains, forgetbench evaluates.

    Not resumable from a per-task checkpoint (Avalanche's plugin state is not saved): an
    interrupted run starts again from task 1; finished runs are still skipped.
    """

    avalanche_name: ClassVar[str]
    resumable: ClassVar[bool] = False
    checks_own_arguments: ClassVar[bool] = True
    formulations: ClassVar[tuple[str, ...]] = ("heads",)  # Avalanche's loops train classifiers on class logits

    def __init__(self, **hyperparameters: Any) -> None:
        label = f"avalanche:{self.avalanche_name}"
        if not avalanche_installed():
            raise UserError(f"strategy {label!r} needs avalanche-lib, which is not installed; install it with {INSTALL_HINT}")
        from strategies.avalanche.template import hyperparameters as accepted_of

        # Avalanche's own constructor arguments, not this class's signature; values are typed by _typed (Avalanche gives no hints).
        checked_arguments(hyperparameters, accepted_of(self.avalanche_name), {}, owner=f"strategy {label!r}",
                          field=f"strategy_args.{label}", source="the config", convert=False)
        self.arguments = {**AVALANCHE_STRATEGIES[self.avalanche_name][1], **{k: _typed(v) for k, v in hyperparameters.items()}}
        self._run: Any = None

    def bind(self, run: Any) -> None:
        super().bind(run)
        self._run = None

    def trainer(self) -> TrainLoop:
        """Avalanche's loop instead of the engine's (the contract's declared replacement)."""
        return self.train_tasks

    def train_tasks(self, model: TaskModel, tasks: list[EncodedTask], strategy: Strategy, config: TrainConfig, *,
                    pad_id: int, generator: torch.Generator, progress: bool = False, description: str = "",
                    fault_point: str | None = None, parallel: object = None) -> Any:
        """Trains on ``tasks[0]`` through Avalanche (replaces :func:`benchmark.engine.trainer.train_tasks` for this run).

        ``parallel`` is accepted for the trainer's signature only: the suite refuses
        ``avalanche:*`` strategies under a multi-process launch before anything runs.
        """
        from strategies.avalanche.template import AvalancheRun

        if self._run is None:
            try:
                self._run = AvalancheRun(self.avalanche_name, self.arguments, model, self.run.tasks, config, pad_id, self.run.device)
            except (TypeError, ValueError) as exc:
                raise UserError(f"avalanche:{self.avalanche_name} rejected its arguments {self.arguments} ({exc}); "
                                f"fix strategy_args.avalanche:{self.avalanche_name}") from exc
        return self._run.train(tasks[0], generator, fault_point)

    def extra_memory_bytes(self) -> int:
        return self._run.extra_bytes() if self._run is not None else 0

    def memory_profile(self, batch_size: int) -> MemoryProfile:
        return MemoryProfile(copies=AVALANCHE_STRATEGIES[self.avalanche_name][2])


def _register() -> None:
    suffix = "" if avalanche_installed() else f" [not installed: {INSTALL_HINT}]"
    for name, (what, _, _) in AVALANCHE_STRATEGIES.items():
        cls = type(f"Avalanche{name}", (AvalancheStrategy,), {"avalanche_name": name, "__doc__": what})
        STRATEGIES.add(f"avalanche:{name}", cls, description=what + suffix)


_register()
