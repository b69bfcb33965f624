"""One planned run wired against a suite's setup (by the sequential launcher and by every worker)."""

from __future__ import annotations

from pathlib import Path

from benchmark.core.config import SuiteConfig
from benchmark.engine.checkpoints import remove_checkpoint
from benchmark.engine.plan import RunPlan, run_fingerprint
from benchmark.engine.run_context import RunContext
from benchmark.engine.run_wiring import RunWiring
from benchmark.engine.strategy import Strategy
from benchmark.suite.setup import SuiteSetup


def wire_run(
    setup: SuiteSetup, config: SuiteConfig, plan: RunPlan, strategy: Strategy, results_dir: Path, *,
    progress: bool | None = None, worker: bool = False,
) -> RunWiring:
    """What :func:`benchmark.engine.run.run_one` needs for ``plan``: its context, measures and settings, and ``strategy``.

    Every process of an accelerate launch calls this together; they agree on whether
    a checkpoint exists because the main one removes a stale one (``overwrite``) before
    any of them looks. A ``worker`` (a launcher's process with its own setup) checks
    that it sees the run the driver planned; the process that planned it does not
    fingerprint it again.

    Args:
        setup: The suite's data, backbone, measures and processes.
        config: The suite's configuration.
        plan: Which run.
        strategy: The run's own strategy instance, never bound before (the run binds it).
        results_dir: Where the run's checkpoint lives.
        progress: Show per-task bars (default: ``config.progress``; only the main process shows them).
        worker: Check the run's fingerprint against this process's data and model.
    """
    if config.overwrite and setup.parallel.is_main:
        remove_checkpoint(results_dir, plan.run_id)
    setup.parallel.barrier()
    tasks = setup.tasks(config, plan.order, plan.seed)
    if worker and run_fingerprint(config, setup.spec, plan.strategy, setup.backbone, tasks, plan.order, plan.seed) != plan.fingerprint:
        raise RuntimeError(
            f"run {plan.run_id} sees different data or model here than where the suite was planned "
            "(a different forgetbench, package or data version on this machine?)"
        )
    context = RunContext(
        seed=plan.seed, train=config.train, backbone=setup.backbone, tasks=tasks, general_texts=setup.general_texts,
        device=setup.device, parallel=setup.parallel,
    )
    return RunWiring(
        context=context, strategy=strategy, config=config, spec=setup.spec, measures=setup.measures, measure_env=setup.measure_env,
        environment=setup.environment, progress=(config.progress if progress is None else progress) and setup.parallel.is_main,
    )
