"""Planning a suite: every (order, seed, strategy) named and fingerprinted before anything runs."""

from __future__ import annotations

from benchmark.core.config import SuiteConfig
from benchmark.core.errors import UserError
from benchmark.engine.plan import RunPlan, row0_key, run_fingerprint
from benchmark.results.records import check_run_id_length, run_id
from benchmark.suite.setup import SuiteSetup
from benchmark.suite.sweeps import point_label


def plan_runs(setup: SuiteSetup, config: SuiteConfig, orders: list[int]) -> list[RunPlan]:
    """Every (order, seed, strategy) of the suite with its run id, fingerprint and row-0 key."""
    planned = []
    for order in orders:
        for seed in config.seeds:
            tasks = setup.tasks(config, order, seed)
            key = row0_key(config, setup.backbone, tasks, seed)
            for name in config.strategies:
                label = point_label(name, config.sweep_point)
                rid = run_id(setup.spec.name, order, label, seed)
                check_run_id_length(rid)
                if any(p.run_id == rid for p in planned):  # two names that differ only in characters a file name cannot hold
                    other = next(p.strategy for p in planned if p.run_id == rid)
                    raise UserError(f"strategies {other!r} and {name!r} would write the same record {rid}.json; run them into different --out directories")
                planned.append(RunPlan(
                    order=order, seed=seed, strategy=name, run_id=rid, label=label if label != name else "",
                    fingerprint=run_fingerprint(config, setup.spec, name, setup.backbone, tasks, order, seed), row0_key=key,
                ))
    return planned
