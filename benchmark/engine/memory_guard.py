"""Refuse a suite that cannot fit in memory, before training, instead of being OOM-killed.

The estimate is the run's memory plan (:mod:`benchmark.engine.memory_plan`), meant to
err high; ``benchmarks/memory_plan.py --measured`` compares it with measured peaks.
"""

from __future__ import annotations

import dataclasses
import os
from pathlib import Path

import torch

from benchmark.model.backbones import Backbone
from benchmark.core.config import SuiteConfig
from benchmark.core.errors import UserError
from benchmark.engine.memory_plan import GIB, ModelShape, plan_run
from benchmark.engine.strategy import Strategy
from benchmark.model.weights_dtype import dtype_name

USABLE_FRACTION = 0.9
MAX_AUTO_JOBS = 4096  # the cap of jobs in the config; without a memory reading, the cores decide


def available_memory_bytes() -> int | None:
    """Memory this process may still use: MemAvailable, capped by a cgroup limit if one is set."""
    candidates = []
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemAvailable:"):
                candidates.append(int(line.split()[1]) * 1024)
    except OSError:
        pass
    for limit_file, usage_file in (("/sys/fs/cgroup/memory.max", "/sys/fs/cgroup/memory.current"),
                                   ("/sys/fs/cgroup/memory/memory.limit_in_bytes", "/sys/fs/cgroup/memory/memory.usage_in_bytes")):
        try:
            limit = Path(limit_file).read_text().strip()
            if limit.isdigit() and int(limit) < 2**60:
                candidates.append(int(limit) - int(Path(usage_file).read_text().strip()))
        except (OSError, ValueError):
            continue
    return min(candidates) if candidates else None


def resident_bytes() -> int:
    """This process's resident memory (VmRSS), 0 where /proc cannot tell."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
    except OSError:
        pass
    return 0


def estimate_run_bytes(
    backbone: Backbone, strategy: Strategy, config: SuiteConfig, max_length: int = 512, shards: int = 1, tasks: int = 1,
) -> int:
    """Upper estimate of the peak memory of one process of a run of ``strategy``: the total of its memory plan.

    Args:
        backbone: The loaded backbone.
        strategy: The strategy (its ``trains_backbone`` and ``memory_profile`` count).
        config: The suite (batch sizes, perplexity context).
        max_length: The longest token sequence of any task of the scenario.
        shards: Processes the run's model is sharded over (``--sharding fsdp``).
        tasks: Tasks of the run (a strategy may add modules per task).
    """
    model = backbone.model
    return _plan_total(ModelShape.of(model), strategy.added_parameters(model, tasks), strategy, config, loaded_dtype(backbone), max_length, shards)


def loaded_dtype(backbone: Backbone) -> str:
    """The type the backbone's weights are stored in."""
    return dtype_name(next(backbone.model.parameters()).dtype)


def _plan_total(shape: ModelShape, added: int, strategy: Strategy, config: SuiteConfig, dtype: str, max_length: int, shards: int = 1) -> int:
    plan = plan_run(shape, strategy, config, dtype=dtype, max_length=max_length, shards=shards, added=added)
    return plan.total(device=config.device.startswith("cuda"))  # on a GPU the host parts are not in its memory


def fitting_changes(
    backbone: Backbone, strategy: Strategy, config: SuiteConfig, max_length: int, usable: float, shards: int = 1, tasks: int = 1,
) -> list[str]:
    """The flag changes, alone or together, whose plan fits in ``usable`` bytes (the refusal names them).

    Unsharded runs also get the fewest processes (2, 4 or 8) that ``--sharding fsdp`` would make fit.
    """
    changes: list[tuple[str, SuiteConfig]] = []
    if config.dtype == "fp32":
        changes.append(("--dtype bf16", dataclasses.replace(config, dtype="bf16")))
    if not config.train.gradient_checkpointing:
        checkpointed = dataclasses.replace(config, train=dataclasses.replace(config.train, gradient_checkpointing=True))
        changes += [("--gradient-checkpointing", checkpointed)]
        if config.dtype == "fp32":
            changes.append(("--dtype bf16 --gradient-checkpointing", dataclasses.replace(checkpointed, dtype="bf16")))
    shape, added, loaded = ModelShape.of(backbone.model), strategy.added_parameters(backbone.model, tasks), loaded_dtype(backbone)
    fitting = [flags for flags, changed in changes
               if _plan_total(shape, added, strategy, changed, "bf16" if changed.dtype == "bf16" else loaded, max_length, shards) <= usable]
    if shards == 1:
        over = next((n for n in (2, 4, 8) if _plan_total(shape, added, strategy, config, loaded, max_length, n) <= usable), None)
        fitting += [f"--sharding fsdp over {over} processes"] if over else []
    return fitting


def runs_that_fit(backbone: Backbone, strategies: list[Strategy], config: SuiteConfig, max_length: int = 512) -> int:
    """How many of the suite's largest run fit in this machine's memory at once (at least 1; ``jobs: auto``)."""
    available = available_memory_bytes()
    if not available or os.environ.get("FORGETBENCH_SKIP_MEMORY_CHECK") == "1":
        return MAX_AUTO_JOBS
    one = max(estimate_run_bytes(backbone, s, config, max_length) for s in strategies)
    return max(1, min(MAX_AUTO_JOBS, int(USABLE_FRACTION * available // one)))


def check_memory(backbone: Backbone, strategies: list[Strategy], config: SuiteConfig, max_length: int = 512,
                 available: int | None = None, concurrent: int = 1, shards: int = 1, tasks: int = 1) -> None:
    """Raises a UserError if ``concurrent`` of the suite's largest run would not fit in the memory available.

    ``concurrent`` is how many runs share this machine at once (``--jobs``, or a local
    Ray instance's parallel tasks); each runs in its own process with its own copies.
    ``shards``: processes a run's model is sharded over (each holds its part); ``tasks``: tasks per run.
    """
    if config.device.startswith("cuda") and torch.cuda.is_available():
        available = available if available is not None else torch.cuda.mem_get_info()[0]
    elif available is None:
        available = available_memory_bytes()
        if available and concurrent == 1:  # the run is this process: the plan's runtime and pretrained copy are already resident
            available += resident_bytes()
    if not available or os.environ.get("FORGETBENCH_SKIP_MEMORY_CHECK") == "1":
        return
    one, name = max((estimate_run_bytes(backbone, s, config, max_length, shards, tasks), n) for s, n in zip(strategies, config.strategies))
    need = one * concurrent
    if need > USABLE_FRACTION * available:
        at_once, verb, fewer = (f"{concurrent} runs at once of ", "need", "fewer --jobs, ") if concurrent > 1 else ("", "needs", "")
        largest = strategies[config.strategies.index(name)]
        fitting = fitting_changes(backbone, largest, config, max_length, USABLE_FRACTION * available / concurrent, shards, tasks)
        would_fit = f"{' or '.join(fitting)} would fit, or use " if fitting else "use "
        raise UserError(
            f"{at_once}strategy {name!r} on model {backbone.name!r} {verb} about {need / GIB:.1f} GiB but only {available / GIB:.1f} GiB "
            f"of memory are available ('run_benchmark.py plan' with the same flags shows the parts); {would_fit}{fewer}a smaller "
            "--batch-size or model, fewer memory-hungry strategies, or a bigger machine (FORGETBENCH_SKIP_MEMORY_CHECK=1 skips this check)"
        )
