"""A suite: every (order, seed, strategy) run of one scenario, for one model or several.

With several models (``models: [a, b]``, ``--model a,b``: the model axis) every model
is one suite of its own whose records go to ``<out>/<model>/`` (a results directory of
its own, so run ids and caches never collide); every model is loaded and checked
before the first run starts. ``run_suite`` validates everything a user can get wrong (names, files, data, memory)
before anything is written, prepares data and the backbone once, computes the row-0
evaluation once per (order, seed) for all strategies, skips runs already recorded,
and hands the rest to a launcher (:mod:`benchmark.suite.launchers`): one after another in
this process, ``jobs`` worker processes, or Ray tasks. Interrupted runs continue
from their checkpoints; the driver writes one record per run atomically.
"""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from benchmark.core.atomic_io import remove_stale_temp_files
from benchmark.model.batching import train_batch_count
from benchmark.core.config import SuiteConfig
from benchmark.core.environment import default_threads, physical_cores
from benchmark.core.errors import UserError
from benchmark.engine.memory_guard import check_memory, runs_that_fit
from benchmark.engine.parallel import Parallel, make_parallel
from benchmark.results.records import RunRecord, read_record, record_path, slug
from benchmark.engine.row0_cache import RowZero, cached_row0
from benchmark.engine.plan import RunPlan
from benchmark.engine.run_steps import RunOutcome
from benchmark.model.backbones import Backbone
from benchmark.engine.measuring import compute_row0
from benchmark.suite.config import build_config, suite_models, with_decode
from benchmark.suite.sweeps import sweep_points
from benchmark.suite.planning import plan_runs
from benchmark.suite.setup import SuiteSetup, resolve_device, setup_suite
from benchmark.suite.sharding_rules import check_sharding
from benchmark.engine.measures import build_measures, check_model_kind
from scenarios.catalog import load_scenario
from scenarios.spec import ScenarioSpec
from benchmark.engine.formulations import formulation
from benchmark.engine.strategy import Strategy
from benchmark.engine.tracking import check_trackers, tracker_names
from benchmark.engine.strategy_building import build_strategy, check_formulation

MAX_STEPS_PER_RUN = 100_000_000  # about a year at 0.3 s a step: beyond this a plan is a typo, not an experiment


def check_writable(directory: str | Path) -> None:
    """Fails early, before any training, if results could not be written to ``directory``."""
    path = Path(directory).resolve()
    if path.exists() and not path.is_dir():
        raise UserError(f"results directory {str(directory)!r} exists and is not a directory; pass a directory (new or existing) to --out")
    probe = path
    while not probe.exists():
        probe = probe.parent
    if not probe.is_dir() or not os.access(probe, os.W_OK | os.X_OK):
        raise UserError(f"results directory {str(directory)!r} is not writable; pass a writable directory to --out")


def check_plan_size(setup: SuiteSetup, config: SuiteConfig, orders: list[int]) -> None:
    """Refuses, before any work, a run with more optimizer steps than could ever finish (a typo in epochs)."""
    for order in orders:
        for seed in config.seeds:
            batches = [train_batch_count(len(setup.data.by_seed[seed][t.name].train), config.train.batch_size) for t in setup.spec.ordered_tasks(order)]
            steps = config.train.epochs * sum(batches)
            if steps > MAX_STEPS_PER_RUN:
                raise UserError(
                    f"the plan trains {steps:.3g} optimizer steps per run (train.epochs {config.train.epochs} x {sum(batches)} "
                    f"batches over {len(batches)} task(s)), more than the {MAX_STEPS_PER_RUN:,} any run could finish; lower train.epochs or the split sizes"
                )


def remove_own_stale_files(results_dir: str | Path) -> None:
    """Deletes the temporary files that killed processes of this machine left in the results directory."""
    out = Path(results_dir)
    for folder in (out, out / ".cache" / "row0", out / ".checkpoints"):
        remove_stale_temp_files(folder)


def _existing_record(config: SuiteConfig, rid: str, fingerprint_: str) -> RunRecord | None:
    """The record of a run that already completed with this configuration (None: run it)."""
    path = record_path(config.out, rid)
    if config.overwrite or not path.is_file():
        return None
    try:
        record = read_record(path)
    except (OSError, ValueError, KeyError, TypeError):
        return None  # a damaged record is simply redone
    if record.fingerprint != fingerprint_:
        raise UserError(
            f"{path} holds run {rid} made with a different configuration; pass --overwrite to run it again "
            "or choose another --out"
        )
    return record


def _validate(config: SuiteConfig, spec: ScenarioSpec, parallel: Parallel) -> tuple[list[int], list[Strategy]]:
    """Checks names, orders, strategies, measures and the launch before any work; returns the orders and the strategies."""
    build_measures(config.measures, config)  # names and series clashes
    orders = list(range(1, len(spec.orders) + 1)) if config.orders == "all" else config.orders
    for order in orders:
        spec.ordered_tasks(order)
    posing = formulation(config.formulation)  # a name the registry does not hold is refused here
    posing.check_config(config)
    posing.check_scenario(spec)
    for name in config.strategies:
        check_formulation(name, posing.name)
    strategies = [build_strategy(name, config.strategy_args) for name in config.strategies]  # validates names and arguments
    if parallel.processes > 1:
        if config.launch.launcher != "sequential":
            raise UserError(
                f"--launcher {config.launch.launcher} cannot run inside accelerate launch; spread one run over "
                "processes (accelerate launch) or the suite's runs over workers (--launcher), not both"
            )
        bridged = [name for name in config.strategies if name.startswith("avalanche:")]
        if bridged:
            raise UserError(f"{bridged[0]} runs Avalanche's own single-process loop; run it without accelerate launch")
    check_sharding(config, parallel.processes, dict(zip(config.strategies, strategies)))
    check_trackers(tracker_names(config.report_to))
    if parallel.processes == 1:
        resolve_device(config.device)
    check_writable(config.out)
    return orders, strategies


def check_model_folders(models: list[str]) -> None:
    """Refuses two models whose records would share one folder ``<out>/<model>`` (one record would replace the other)."""
    if len(models) < 2:
        return
    folders: dict[str, str] = {}
    for model in models:
        folder = slug(model)
        if folder in folders:
            raise UserError(
                f"--model names {folders[folder]!r} and {model!r}, whose records would share the folder {folder!r} under --out; "
                "run them into different --out directories, or rename one so that the names differ in more than punctuation"
            )
        folders[folder] = model


def model_suite(config: SuiteConfig, model: str) -> SuiteConfig:
    """The one-model suite of ``model`` in a suite over several models: its own results directory ``<out>/<model>``."""
    if len(suite_models(config)) == 1:
        return dataclasses.replace(config, model=model, models=[])
    return dataclasses.replace(config, model=model, models=[], out=str(Path(config.out) / slug(model)))


@dataclass
class PreparedSuite:
    """A one-model suite checked and set up, with its planned runs; nothing has run yet.

    ``strategies`` holds each strategy as built and checked here, never bound to a model:
    every run of this process starts from a copy of it, so the suite builds each strategy once.
    """

    config: SuiteConfig
    setup: SuiteSetup
    planned: list[RunPlan]
    finished: dict[str, RunRecord | None]
    strategies: dict[str, Strategy]


def run_suite(config: SuiteConfig, *, on_run: Callable[[RunOutcome, Path], None] | None = None) -> list[RunRecord]:
    """Runs every (model, order, seed, strategy) of ``config`` and writes one record per run.

    Runs whose record already exists with the same configuration are skipped, and
    unfinished ones continue from their last checkpoint (``config.overwrite`` starts
    everything again). ``on_run`` is called after each run that executed in this
    process (sequential launcher) with its outcome (record and trained model) and the
    record's path.

    Raises:
        UserError: Before anything is written, for any mistake in names, files or data
            (of every model of the suite).
        SuiteIncomplete: When a worker died; finished runs are recorded, and running the
            same suite again completes the missing ones.
    """
    from benchmark.suite.launchers import launch_runs

    config = with_decode(config)
    check_model_folders(suite_models(config))
    # Every model and sweep point is prepared before the first run, so a mistake that only one shows stops the suite before any work.
    prepared = [prepare_suite(model_suite(point, model)) for point in sweep_points(config, build_config) for model in suite_models(point)]
    records: list[RunRecord] = []
    launched: set[tuple[str, str]] = set()  # a strategy no sweep key concerns is the same run at every point: it runs once
    for suite in prepared:
        finished = dict(suite.finished)
        # By folder and run id: the model axis puts one run id in each model's folder.
        pending = [p for p in suite.planned if finished[p.run_id] is None and (suite.config.out, p.run_id) not in launched]
        launched.update((suite.config.out, p.run_id) for p in pending)
        rows0 = rows_zero(suite, pending)
        for record in launch_runs(suite.setup, suite.config, pending, rows0, suite.strategies, on_run=on_run,
                                  already=len(suite.planned) - len(pending)):
            finished[record.run_id] = record
        records.extend(finished[p.run_id] for p in suite.planned if finished[p.run_id] is not None)
        suite.setup = None  # type: ignore[assignment] - frees this model before the next one runs
    return records


def prepare_suite(config: SuiteConfig) -> PreparedSuite:
    """Validates a one-model suite, sets it up (data, backbone, measures) and plans its runs; writes nothing but stale-file removal."""
    parallel = make_parallel(config.device, config.train.precision)
    spec = load_scenario(config.scenario)  # once per suite: the setup and the workers' data carry it from here
    orders, strategies = _validate(config, spec, parallel)
    if not config.progress:
        from transformers.utils import logging as transformers_logging

        transformers_logging.disable_progress_bar()
    setup = setup_suite(config, threads=config.threads or default_threads(), parallel=parallel, launcher=config.launch.launcher, spec=spec)
    check_plan_size(setup, config, orders)
    formulation(config.formulation).check_backbone(config, setup.backbone.kind)
    check_model_kind(setup.measures, setup.backbone.kind, has_lm_head=setup.backbone.has_lm_head)
    test_sizes = {name: len(task.test.labels) for name, task in next(iter(setup.data.by_seed.values())).items()}
    for measure in setup.measures.values():
        if setup.backbone.has_lm_head or not measure.needs_lm_head:  # else not taken: the record says why
            measure.check_setup(setup.measure_env, test_sizes)
    for name, strategy in zip(config.strategies, strategies):
        strategy.check_backbone(setup.backbone)
        check_lm_head(name, strategy, setup.backbone)
    longest = max(d.spec.max_length for tasks in setup.data.by_seed.values() for d in tasks.values())
    runs = len(orders) * len(config.seeds) * len(config.strategies)
    config = resolve_auto_jobs(config, setup, strategies, longest, runs)
    shards = parallel.processes if config.train.sharding == "fsdp" else 1
    check_memory(setup.backbone, strategies, config, longest, concurrent=concurrent_runs(config, parallel, runs), shards=shards,
                 tasks=len(setup.spec.tasks))
    if parallel.is_main:
        remove_own_stale_files(config.out)
    planned = plan_runs(setup, config, orders)
    for order in orders:
        for seed in config.seeds:
            for strategy in strategies:
                strategy.check_tasks(setup.tasks(config, order, seed), setup.backbone, seed)
    finished = {p.run_id: _existing_record(config, p.run_id, p.fingerprint) for p in planned}
    return PreparedSuite(config=config, setup=setup, planned=planned, finished=finished,
                         strategies=dict(zip(config.strategies, strategies)))


def rows_zero(suite: PreparedSuite, pending: list[RunPlan]) -> dict[str, RowZero]:
    """Row 0 of the pending runs, computed (or read from the cache) once per (order, seed): every strategy starts from it."""
    config, setup = suite.config, suite.setup
    rows0: dict[str, RowZero] = {}
    for run in pending:
        if run.row0_key not in rows0:
            tasks = setup.tasks(config, run.order, run.seed)
            compute = lambda tasks=tasks, seed=run.seed: compute_row0(setup.backbone, tasks, seed, setup.measures, setup.measure_env, setup.device)  # noqa: E731
            rows0[run.row0_key], _ = cached_row0(config.out, run.row0_key, compute, setup.parallel)
    return rows0


def check_lm_head(name: str, strategy: Strategy, backbone: Backbone) -> None:
    """Refuses, in one sentence, a strategy that trains through a language-model head on a model without one."""
    if strategy.needs_lm_head and not backbone.has_lm_head:
        raise UserError(
            f"strategy {name!r} trains through a language-model head, but model {backbone.name!r} has none "
            f"({backbone.no_lm_head_reason}); leave it out of --strategies for this model or use a model with an LM head"
        )


def resolve_auto_jobs(config: SuiteConfig, setup: SuiteSetup, strategies: list[Strategy], max_length: int, runs: int) -> SuiteConfig:
    """``config`` with ``launch.jobs: auto`` replaced by a count (see :class:`benchmark.core.config.LaunchConfig`).

    CPU only, and not inside ``accelerate launch``: a GPU run, or a run already spread over
    processes, keeps the machine to itself.
    """
    if config.launch.jobs != "auto":
        return config
    jobs = 1
    if setup.parallel.processes == 1 and setup.device.type == "cpu":
        per_run = config.threads or config.launch.cpus_per_run or 1
        jobs = max(1, min(runs, physical_cores() // per_run, runs_that_fit(setup.backbone, strategies, config, max_length)))
    launcher = "local" if jobs > 1 else "sequential"
    setup.environment["launcher"] = launcher
    return dataclasses.replace(config, launch=dataclasses.replace(config.launch, jobs=jobs, launcher=launcher))


def concurrent_runs(config: SuiteConfig, parallel: Parallel, runs: int) -> int:
    """How many copies of a run share this machine's memory at once (launcher workers or CPU processes).

    A launcher never starts more workers than the suite has runs, so ``runs`` caps the count.
    """
    if parallel.processes > 1:  # accelerate: processes on this node; on GPUs each has its own device memory
        return int(os.environ.get("LOCAL_WORLD_SIZE", parallel.processes)) if parallel.device.type == "cpu" else 1
    launch = config.launch
    if launch.launcher == "local":
        return max(1, min(launch.jobs, runs))
    if launch.launcher == "ray" and launch.ray_address is None:
        return max(1, min(runs, physical_cores() // (launch.cpus_per_run or 1)))
    return 1  # sequential, or a Ray cluster whose nodes this machine cannot see
