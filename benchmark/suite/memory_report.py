"""What ``run_benchmark.py plan`` prints: each process's memory for a suite, part by part, before anything is loaded.

The flags of a run (model, strategies, batch, precision, ``--dtype``,
``--gradient-checkpointing``, the scenario for the sequence length) plus ``--shards N``
for a run whose weights, gradients, optimizer state and strategy state are sharded over N
processes. The model is built on the meta device from its config: no weights are read.
"""

from __future__ import annotations

from tabulate import tabulate

from benchmark.core.config import SuiteConfig
from benchmark.engine.memory_plan import GIB, MemoryPlan, ModelShape, plan_run


def plan_text(config: SuiteConfig, shards: int) -> str:
    """The plan of every strategy of ``config`` as a table (GiB per process), with what it assumed."""
    from benchmark.model.meta_model import structure_of
    from scenarios.catalog import load_scenario
    from benchmark.engine.strategy_building import build_strategy

    spec = load_scenario(config.scenario)
    longest = max(task.max_length for task in spec.tasks)
    generated = max((task.max_new_tokens or 0) for task in spec.tasks)
    structure = structure_of(config.model)
    shape = ModelShape.of(structure)
    dtype = config.dtype if config.dtype != "auto" else ("bf16" if config.device.startswith("cuda") else "fp32")
    strategies = {name: build_strategy(name, config.strategy_args) for name in config.strategies}
    plans = {name: plan_run(shape, strategy, config, dtype=dtype, max_length=longest, shards=shards, generated_tokens=generated,
                            added=strategy.added_parameters(structure, len(spec.tasks))) for name, strategy in strategies.items()}
    return "\n".join([
        f"memory plan per process: {config.model} ({shape.parameters:,} parameters), {dtype} weights, "
        f"{config.train.precision} autocast, batch {config.train.batch_size} x {longest} tokens, "
        f"activation checkpointing {'on' if config.train.gradient_checkpointing else 'off'}, {shards} shard(s)",
        "",
        table(plans),
    ])


def table(plans: dict[str, MemoryPlan]) -> str:
    """Parts as rows, strategies as columns, GiB; then the totals (all of it, and what lives on an accelerator)."""
    first = next(iter(plans.values()))
    rows = [[line.part + (" (host)" if line.on_host else "")] + [f"{p.lines[i].bytes / GIB:.2f}" for p in plans.values()]
            for i, line in enumerate(first.lines)]
    rows.append(["total"] + [f"{p.total() / GIB:.2f}" for p in plans.values()])
    rows.append(["total on a GPU"] + [f"{p.total(device=True) / GIB:.2f}" for p in plans.values()])
    return tabulate(rows, headers=["GiB per process", *plans], tablefmt="github", disable_numparse=True)
