"""The steps of one run (:func:`benchmark.engine.run.run_one` calls them in order)."""

from __future__ import annotations

import datetime as dt
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch

from benchmark.core import faults
from benchmark.core.config import to_dict
from benchmark.core.errors import UserError
from benchmark.core.hashing import derived_seed
from benchmark.engine.formulations import formulation
from benchmark.engine.checkpoints import Checkpoint, RunState, checkpoint_path, load_checkpoint, save_checkpoint
from benchmark.engine.sharded_checkpoints import (
    empty_sharded, joined_sharded, load_parts, remove_shards, save_parts, shards_folder, split_sharded,
)
from benchmark.engine.measures import MeasurePoint, not_applicable
from benchmark.engine.measuring import empty_series, evaluation_columns, new_model, take_measures
from benchmark.engine.plan import RunPlan
from benchmark.engine.row0_cache import RowZero
from benchmark.engine.run_context import RunContext
from benchmark.engine.run_wiring import RunWiring
from benchmark.engine.sharding import is_sharded, shard_model
from benchmark.engine.strategy import Strategy
from benchmark.engine.trainer import TrainStats
from benchmark.model.encoding import EncodedTask
from benchmark.model.task_model import TaskModel, count_parameters
from benchmark.results.metrics import compute_metrics
from benchmark.results.records import RunRecord, TaskTiming


@dataclass
class RunOutcome:
    """A finished (or failed) run: its record and the model it trained."""

    record: RunRecord
    model: TaskModel


@dataclass
class ActiveRun:
    """A run under way: its plan and context, the strategy and model, and where it checkpoints."""

    plan: RunPlan
    wiring: RunWiring
    strategy: Strategy
    model: TaskModel
    path: Path | None
    pristine_names: set[str]
    total_parameters: int
    start: float
    tick: float = 0.0  # when the current step's training began
    stats: TrainStats | None = None  # what the current step's training did
    resumed_from: int = 0  # steps its checkpoint had finished (0: started afresh)

    @property
    def context(self) -> RunContext:
        """What the strategy sees of this run."""
        return self.wiring.context

    def step_name(self, learning: list[EncodedTask]) -> str:
        """The task a step trains on, or ``joint``."""
        return "joint" if self.strategy.joint else learning[0].name


def start_run(plan: RunPlan, wiring: RunWiring, results_dir: Path | None) -> ActiveRun:
    """The pretrained model with the run's seeded heads, wrapped by the run's strategy (bound here)."""
    start = time.perf_counter()
    context, strategy = wiring.context, wiring.strategy
    torch.manual_seed(derived_seed(plan.seed, 0))
    sharded = wiring.config.train.sharding == "fsdp"
    # Sharded: built on the CPU, and each process's part moved to its device when it is cut.
    model = new_model(context.backbone, context.tasks, plan.seed, torch.device("cpu") if sharded else context.device, wiring.config.formulation)
    if wiring.config.train.gradient_checkpointing:  # before the strategy wraps the model (LoRA's peft wrapper)
        model.checkpoint_activations()
    pristine_names, total_parameters = {n for n, _ in model.named_parameters()}, count_parameters(model)
    strategy.bind(context)
    model = strategy.wrap_model(model)
    if sharded:  # after the strategy's modules are in place, before any optimizer exists
        shard_model(model, context.device)
        strategy.after_sharding(model)
    faults.entering_run(plan.run_id)
    path = checkpoint_path(results_dir, plan.run_id) if results_dir is not None else None
    return ActiveRun(plan, wiring, strategy, model, path, pristine_names, total_parameters, start)


def steps_of(run: ActiveRun) -> list[tuple[int, list[EncodedTask]]]:
    """(row, tasks learned) of every training step: one per task, or one for all (the joint reference)."""
    tasks = run.context.tasks
    return [(len(tasks), tasks)] if run.strategy.joint else [(t, [task]) for t, task in enumerate(tasks, 1)]


def resume(run: ActiveRun, row0: RowZero) -> RunState:
    """The run's state: from its checkpoint if there is one (the model and strategy restored), else row 0 only."""
    fresh = RunState(completed=0, values=empty_series(run.wiring.measures, row0, len(run.context.tasks)))
    saved = load_checkpoint(run.path) if run.path is not None else None
    if saved is None:
        return fresh
    rid = run.plan.run_id
    if saved.fingerprint != run.plan.fingerprint:
        raise UserError(
            f"{run.path} is a checkpoint of run {rid} made with a different configuration; pass --overwrite to start it "
            "again or choose another --out"
        )
    if saved.state.threads and saved.state.threads != torch.get_num_threads():  # float sums depend on the thread count
        raise UserError(
            f"{run.path} is a checkpoint of run {rid} made with {saved.state.threads} torch thread(s) but this process has "
            f"{torch.get_num_threads()}, which would change its numbers; pass --threads {saved.state.threads} to continue it, "
            "or --overwrite to start it again"
        )
    if (saved.shards is not None) != is_sharded(run.model):
        how = "with --sharding fsdp" if saved.shards is not None else "without --sharding"
        raise UserError(f"{run.path} is a checkpoint of run {rid} made {how}; continue it {how}, or pass --overwrite to start it again")
    if saved.shards is not None:
        restore_shards(run, saved)
    else:
        run.strategy.load_state_dict(saved.strategy)
        missing = set(saved.weights) - {n for n, _ in run.model.named_parameters()}
        if missing:
            raise RuntimeError(f"checkpoint {run.path} holds weights the model does not have: {sorted(missing)[:3]}")
        run.model.load_state_dict(saved.weights, strict=False)
    torch.set_rng_state(saved.rng)
    run.resumed_from = saved.state.completed
    return saved.state


def before_training(run: ActiveRun, state: RunState, t: int, learning: list[EncodedTask]) -> torch.Generator:
    """Step ``t``'s seeds and the strategy's ``before_task`` hooks; the generator of its batch order."""
    model, strategy = run.model, run.strategy
    torch.manual_seed(derived_seed(run.plan.seed, t))
    generator = torch.Generator().manual_seed(derived_seed(run.plan.seed, t, 1))
    run.tick = time.perf_counter()
    formulation(model.formulation).before_training(model, learning)
    for task in learning:
        strategy.before_task(model, task)
    state.trainable = max(state.trainable, count_parameters(model, trainable_only=True))
    state.trained_names = sorted(
        set(state.trained_names) | {n for n, p in model.named_parameters() if p.requires_grad or n not in run.pristine_names}
    )
    return generator


def training_options(run: ActiveRun, t: int, learning: list[EncodedTask]) -> dict[str, Any]:
    """The keyword arguments of step ``t``'s training loop besides its generator (:class:`benchmark.engine.strategy.TrainLoop`)."""
    context = run.context
    return {
        "pad_id": context.pad_id, "progress": run.wiring.progress, "fault_point": f"task{t}", "parallel": context.parallel,
        "description": f"{run.plan.shown_as} s{run.plan.seed} task {t}/{len(context.tasks)} {run.step_name(learning)}",
    }


def measure(run: ActiveRun, state: RunState, t: int, learning: list[EncodedTask]) -> str | None:
    """Row ``t`` of every measure; why the run failed if a measure shows that the model diverged."""
    tasks, config = run.context.tasks, run.wiring.config
    columns = list(range(len(tasks))) if run.strategy.joint else evaluation_columns(t, len(tasks), config.eval.eval_on)
    trained = time.perf_counter()
    row = take_measures(run.wiring.measures, run.model, MeasurePoint(row=t, tasks=tasks, columns=columns), run.wiring.measure_env,
                        fault_point=f"task{t}:eval")
    for series, value in row.values.items():
        state.values[series][t] = value
    if row.divergence is not None:
        what, value = row.divergence
        return f"{what} after task {t} ({run.step_name(learning)}) is {value}: the model diverged"
    seconds = row.seconds
    state.timings.append(TaskTiming(
        task=run.step_name(learning), train_s=trained - run.tick, eval_s=seconds.get("accuracy", 0.0),
        ppl_s=seconds.get("perplexity", 0.0), steps=run.stats.steps if run.stats else 0, measures_s=seconds,
    ))
    return None


def checkpoint(run: ActiveRun, state: RunState, t: int) -> None:
    """Saves the run after step ``t`` atomically (one process writes, or each its parts when sharded; some strategies cannot be resumed)."""
    parallel = run.context.parallel
    main = parallel is None or parallel.is_main
    sharded = is_sharded(run.model)
    if run.path is None or not run.strategy.resumable or not (main or sharded):  # every process reads the checkpoint
        return
    now = RunState(**{**state.__dict__, "seconds": state.seconds + time.perf_counter() - run.start, "threads": torch.get_num_threads()})
    trained = set(state.trained_names)  # ever trainable, heads, or added by the strategy: all a run may have changed
    changed = {n: p for n, p in run.model.named_parameters() if n in trained or n.startswith("heads.")}
    strategy_state, shards = run.strategy.state_dict(), None
    if sharded and parallel is not None:
        parts: dict[str, torch.Tensor] = {}
        strategy_state = split_sharded(strategy_state, parts)
        folder = shards_folder(run.path, state.completed)
        save_parts(folder, changed, parts, parallel)
        shards, changed = {"folder": folder.name, "weights": sorted(changed)}, {}
    if main:
        save_checkpoint(run.path, fingerprint_=run.plan.fingerprint, state=now, weights=changed, strategy=strategy_state, shards=shards)
        if shards is not None:
            remove_shards(run.path, keep=run.path.with_name(shards["folder"]))
    faults.reached(f"task{t}:checkpointed")


def restore_shards(run: ActiveRun, saved: Checkpoint) -> None:
    """A sharded run's weights and strategy state from the parts its checkpoint names (each process reads its own)."""
    assert run.path is not None and saved.shards is not None
    params = dict(run.model.named_parameters())
    missing = set(saved.shards["weights"]) - set(params)
    if missing:
        raise RuntimeError(f"checkpoint {run.path} holds weights the model does not have: {sorted(missing)[:3]}")
    mesh = next(iter(params.values())).device_mesh
    parts: dict[str, torch.Tensor] = {}
    empty_sharded(saved.strategy, mesh, parts)
    with torch.no_grad():
        load_parts(run.path.with_name(saved.shards["folder"]), {n: params[n] for n in saved.shards["weights"]}, parts)
    run.strategy.load_state_dict(joined_sharded(saved.strategy, parts))


def make_record(run: ActiveRun, state: RunState, failure: str | None, row0: RowZero) -> RunRecord:
    """The run's record: every measure's series, the metrics, parameter counts, timings and provenance."""
    wiring, plan, strategy = run.wiring, run.plan, run.strategy
    context, tasks = wiring.context, wiring.context.tasks
    parameters = {
        "total": run.total_parameters, "trainable": state.trainable,
        "added": count_parameters(run.model) - run.total_parameters, "extra_bytes": strategy.extra_memory_bytes(),
    }
    extra: dict[str, Any] = {"row0_seconds": row0.seconds, "resumed_from_task": run.resumed_from}
    extra.update(formulation(wiring.config.formulation).record_extra(tasks))
    if reported := strategy.record_extra():
        extra["strategy"] = reported
    if skipped := not_applicable(wiring.measures, context.backbone):
        extra["not_applicable"] = skipped  # measure -> why its series are None (a model without an LM head)
    return RunRecord(
        scenario=wiring.spec.name, scenario_version=wiring.spec.version, order=plan.order, tasks=[t.name for t in tasks],
        strategy=plan.shown_as, seed=plan.seed, model=context.backbone.name, setting=wiring.config.setting,
        measures=state.values, metrics=compute_metrics(state.values) if failure is None else {},
        parameters=parameters, timings=state.timings, total_seconds=state.seconds + time.perf_counter() - run.start,
        data_hashes={t.name: t.data_hash for t in tasks}, source_hashes={t.name: t.source_hash for t in tasks},
        config=to_dict(wiring.config), environment=wiring.environment, status="finished" if failure is None else "failed",
        error=failure, reference=strategy.reference, fingerprint=plan.fingerprint,
        created_at=dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"), extra=extra,
    )
