"""One planned run executed against a suite's setup (by the sequential launcher and by every worker)."""

from __future__ import annotations

from pathlib import Path

from benchmark.core.config import SuiteConfig
from benchmark.engine.checkpoints import checkpoint_path
from benchmark.engine.plan import RunPlan, run_fingerprint
from benchmark.engine.row0_cache import RowZero
from benchmark.engine.run import run_one
from benchmark.engine.run_context import RunContext
from benchmark.engine.run_wiring import RunWiring
from benchmark.engine.run_steps import RunOutcome
from benchmark.suite.setup import SuiteSetup


def execute_run(
    setup: SuiteSetup, config: SuiteConfig, plan: RunPlan, row0: RowZero, results_dir: Path, *, progress: bool | None = None,
    worker: bool = False,
) -> RunOutcome:
    """Runs (or continues from its checkpoint in ``results_dir``) one planned run; writes no record.

    Every process of an accelerate launch calls this together; they agree on whether
    a checkpoint exists because the main one removes a stale one (``overwrite``) before
    any of them looks. A ``worker`` (a launcher's process with its own setup) checks
    that it sees the run the driver planned; the process that planned it does not
    fingerprint it again.
    """
    if config.overwrite and setup.parallel.is_main:
        checkpoint_path(results_dir, plan.run_id).unlink(missing_ok=True)
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
    wiring = RunWiring(
        context=context, config=config, spec=setup.spec, measures=setup.measures, measure_env=setup.measure_env,
        environment=setup.environment, progress=(config.progress if progress is None else progress) and setup.parallel.is_main,
    )
    return run_one(plan, wiring, row0, results_dir)
