"""The processes one run is spread over: one, or several started by ``accelerate launch``.

forgetbench does not write a distributed trainer; it asks Hugging Face ``accelerate``
for everything that crosses processes: the process group (gloo on CPUs, NCCL on
GPUs), the device of each process, DistributedDataParallel (``Accelerator.prepare``),
loss scaling (``accelerator.backward``), gradient sync control (``no_sync``) and
reductions. :class:`Parallel` is the small surface the harness uses, so the trainer,
the evaluation and the strategies read the same way with one process or with many.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TypeVar

import torch
from accelerate import Accelerator
from accelerate.state import AcceleratorState
from accelerate.utils import DistributedDataParallelKwargs

from benchmark.core.errors import UserError

T = TypeVar("T")

# forgetbench's precision names -> accelerate's mixed_precision names.
MIXED_PRECISION = {"fp32": "no", "bf16": "bf16", "fp16": "fp16"}


def launched_processes() -> int:
    """How many processes ``accelerate launch`` / ``torchrun`` started (1 when run directly)."""
    return int(os.environ.get("WORLD_SIZE", "1"))


def is_main_process() -> bool:
    """Whether this is the main process of a launch (always, when run directly)."""
    return int(os.environ.get("RANK", "0")) == 0


@dataclass
class Parallel:
    """One run's processes and the operations that cross them.

    Attributes:
        accelerator: The ``accelerate.Accelerator`` of this process.
    """

    accelerator: Accelerator

    @property
    def processes(self) -> int:
        """Number of processes the run is spread over."""
        return self.accelerator.num_processes

    @property
    def index(self) -> int:
        """This process's rank, 0 for the main process."""
        return self.accelerator.process_index

    @property
    def is_main(self) -> bool:
        """Whether this process writes records, checkpoints and caches."""
        return self.accelerator.is_main_process

    @property
    def device(self) -> torch.device:
        """The device accelerate assigned to this process."""
        return self.accelerator.device

    def shard(self, items: Sequence[T]) -> list[T]:
        """This process's share of ``items`` (round robin; all of them with one process)."""
        return list(items[self.index :: self.processes])

    def even_share(self, items: Sequence[T], *, even: bool) -> list[tuple[T, bool]]:
        """This process's share of ``items``, each with True; with ``even``, filled up to every process's count.

        A sharded model gathers its weights from every process in each forward pass, so
        every process must make as many as the others: the fill repeats the first item,
        marked False (run it, discard what it gives).
        """
        share = [(item, True) for item in self.shard(items)]
        if not even or not items:
            return share
        longest = -(-len(items) // self.processes)
        return share + [(items[0], False)] * (longest - len(share))

    def sum(self, tensor: torch.Tensor) -> torch.Tensor:
        """The element-wise sum of ``tensor`` over all processes (``tensor`` itself with one)."""
        if self.processes == 1:
            return tensor
        return self.accelerator.reduce(tensor, reduction="sum")

    def any(self, flag: bool) -> bool:
        """True on every process when ``flag`` is True on at least one (keeps failures collective)."""
        if self.processes == 1:
            return flag
        return bool(self.sum(torch.tensor([float(flag)], device=self.device)).item() > 0)

    def gather(self, items: dict[int, T]) -> dict[int, T]:
        """Every process's ``items`` (disjoint keys, such as example indices) merged, on every process."""
        if self.processes == 1:
            return dict(items)
        from accelerate.utils import gather_object

        merged: dict[int, T] = {}
        for part in gather_object([items]):
            merged.update(part)
        return merged

    def barrier(self) -> None:
        """Waits until every process reaches this point."""
        if self.processes > 1:
            self.accelerator.wait_for_everyone()

    def release_training_state(self) -> None:
        """Drops the accelerator's references to the last training's model wrapper and optimizer.

        ``Accelerator.free_memory`` does this and then forces a full ``gc.collect()`` so that a
        GPU's cached blocks can be returned. On a CPU there is no device cache, and reference
        counting frees the optimizer state once accelerate lets go of it; the forced collection
        only scans the whole heap (measured: 0.3 s per task in a process that imported
        transformers, half of a toy run's time). So the collection is kept for accelerators only.
        """
        if self.device.type != "cpu":
            self.accelerator.free_memory()
            return
        # The same references free_memory clears (accelerate 1.x keeps them in these lists).
        for attribute in ("_models", "_optimizers", "_schedulers", "_dataloaders"):
            setattr(self.accelerator, attribute, [])
        self.accelerator.step = 0


def make_parallel(device: str, precision: str) -> Parallel:
    """The Accelerator for a suite run on ``device`` with forgetbench ``precision`` (fp32, bf16, fp16).

    Raises:
        UserError: If the device cannot be combined with a multi-process launch.
    """
    launched = launched_processes() > 1
    if launched and device not in ("cpu", "cuda", "auto"):
        raise UserError(
            f"--device {device!r} names one device, but accelerate launch gives each process its own; "
            "use --device cuda (or cpu) under accelerate launch"
        )
    if not launched:
        # accelerate keeps one process-wide state and refuses a second precision; one
        # Python process may run several single-process suites (tests, notebooks), so the
        # state is rebuilt for each. A launched process runs exactly one suite.
        AcceleratorState._reset_state(reset_partial_state=True)
    use_cpu = device == "cpu" or (device == "auto" and not torch.cuda.is_available())
    accelerator = Accelerator(
        cpu=use_cpu,
        mixed_precision=MIXED_PRECISION[precision],
        # Heads of other tasks and frozen blocks get no gradient in a step; DDP must not wait for them.
        kwargs_handlers=[DistributedDataParallelKwargs(find_unused_parameters=True)],
    )
    return Parallel(accelerator)
