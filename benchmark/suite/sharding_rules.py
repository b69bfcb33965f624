"""What runs with ``--sharding fsdp`` (the model cut over a launch's processes), checked before any work."""

from __future__ import annotations

from benchmark.core.config import SuiteConfig
from benchmark.core.errors import UserError
from benchmark.engine.strategy import Strategy

# What has been checked to give the one-process record when sharded (tests/processes/test_sharding.py).
SHARDED_MEASURES = ("accuracy", "perplexity")
SHARDED_FORMULATIONS = ("heads", "text")


def check_sharding(config: SuiteConfig, processes: int, strategies: dict[str, Strategy]) -> None:
    """Refuses, before any work, a ``--sharding fsdp`` suite that cannot run sharded, in one sentence.

    Raises:
        UserError: Without several launched processes, or with a strategy, measure,
            formulation or decoding that does not run sharded yet.
    """
    if config.train.sharding != "fsdp":
        return
    unshardable = [name for name, strategy in strategies.items() if not strategy.shardable]
    if unshardable:
        raise UserError(
            f"--sharding fsdp: strategy {unshardable[0]!r} does not run sharded yet; run it without --sharding "
            "(each process then holds the whole model)"
        )
    measures = [m for m in config.measures if m not in SHARDED_MEASURES]
    if measures:
        raise UserError(f"--sharding fsdp: measure {measures[0]!r} does not run sharded yet; leave it out of --measures, or --sharding")
    if config.formulation not in SHARDED_FORMULATIONS or config.decode not in (None, "rank"):
        raise UserError(
            f"--sharding fsdp runs the heads formulation and the text formulation with ranked answers; "
            f"--formulation {config.formulation} --decode {config.decode or 'default'} does not run sharded yet"
        )
    if config.train.freeze_layers:
        raise UserError("--sharding fsdp with --freeze-layers has not been checked yet; leave one of them out")
    if processes < 2:
        raise UserError(
            "--sharding fsdp cuts the model over the processes of a launch, but this is one process; "
            "start it with `accelerate launch --num_processes 2 run_benchmark.py ...` (or torchrun), or leave --sharding out"
        )
