"""One run: a strategy over one task order with one seed, checkpointed after every task.

The loop of DESIGN.md: row 0 comes in precomputed; then for each task the strategy's
hooks, training, evaluation on the seen tasks (plus the next one) and on the general
corpus, and a checkpoint. Every task reseeds torch from (seed, task), so a run resumed
from a checkpoint produces the same numbers as one that never stopped.
"""

from __future__ import annotations

import copy
import datetime as dt
import math
import time
import zlib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch

from benchmark import faults
from benchmark.backbones import Backbone
from benchmark.checkpoints import RunState, checkpoint_path, fingerprint, load_checkpoint, save_checkpoint
from benchmark.config import SuiteConfig, to_dict
from benchmark.encoding import EncodedTask, head_sizes
from benchmark.errors import UserError
from benchmark.evaluation import Evaluator
from benchmark.metrics import as_matrix, compute_metrics
from benchmark.records import RunRecord, TaskTiming, run_id
from benchmark.row0_cache import RowZero
from benchmark.run_context import RunContext
from benchmark.task_model import TaskModel, count_parameters
from benchmark.trainer import NumericalFault, train_tasks
from scenarios.spec import ScenarioSpec
from strategies.base import Strategy


def derived_seed(*parts: int) -> int:
    """A 31-bit seed derived from integers (run seed, task position, ...)."""
    return zlib.crc32(",".join(str(p) for p in parts).encode()) & 0x7FFFFFFF


def evaluation_columns(t: int, n_tasks: int, eval_on: str) -> range:
    """Columns evaluated after task ``t`` (1-based): seen tasks, plus the next one, or all."""
    if eval_on == "all":
        return range(n_tasks)
    return range(min(t + 1, n_tasks) if eval_on == "seen_next" else t)


def new_model(backbone: Backbone, tasks: list[EncodedTask], seed: int, device: torch.device) -> TaskModel:
    """A fresh copy of the pretrained backbone with the seeded heads of ``tasks``."""
    return TaskModel(copy.deepcopy(backbone.model), kind=backbone.kind, head_sizes=head_sizes(tasks), seed=seed).to(device)


def run_fingerprint(config: SuiteConfig, spec: ScenarioSpec, strategy_name: str, backbone: Backbone, tasks: list[EncodedTask], order: int, seed: int) -> str:
    """Hash of everything the run's numbers depend on (a checkpoint or record resumes only if it matches)."""
    parts = {p: config.strategy_args.get(p, {}) for p in strategy_name.split("+")}
    plain = to_dict(config)
    return fingerprint({
        "scenario": (spec.name, spec.version), "order": order, "seed": seed, "strategy": strategy_name, "strategy_args": parts,
        "model": backbone.fingerprint, "data": [t.data_hash for t in tasks], "setting": config.setting,
        "train": plain["train"], "eval": plain["eval"],
    })


@dataclass
class RunOutcome:
    """A finished (or failed) run: its record and the model it trained."""

    record: RunRecord
    model: TaskModel


def _changed_weights(model: TaskModel, names: list[str]) -> dict[str, torch.Tensor]:
    """The parameters a run may have changed: ever trainable, heads, or added by the strategy."""
    wanted = set(names)
    return {n: p for n, p in model.named_parameters() if n in wanted or n.startswith("heads.")}


def _check_same_threads(path: Path | None, rid: str, saved_threads: int) -> None:
    """A run continues only with the torch thread count it started with: float sums depend on it."""
    if saved_threads and saved_threads != torch.get_num_threads():
        raise UserError(
            f"{path} is a checkpoint of run {rid} made with {saved_threads} torch thread(s) but this process has "
            f"{torch.get_num_threads()}, which would change its numbers; pass --threads {saved_threads} to continue it, "
            "or --overwrite to start it again"
        )


def run_one(
    *, strategy_name: str, strategy: Strategy, backbone: Backbone, tasks: list[EncodedTask], row0: RowZero,
    evaluator: Evaluator, context: RunContext, config: SuiteConfig, spec: ScenarioSpec, order: int,
    environment: dict[str, Any], progress: bool, fingerprint_: str, results_dir: Path | None = None,
) -> RunOutcome:
    """Runs (or continues, from ``results_dir``'s checkpoint) one strategy over one order with one seed."""
    seed = context.seed
    start = time.perf_counter()
    torch.manual_seed(derived_seed(seed, 0))
    model = new_model(backbone, tasks, seed, context.device)
    pristine_names = {n for n, _ in model.named_parameters()}
    total_parameters = count_parameters(model)
    strategy.bind(context)
    model = strategy.wrap_model(model)
    n = len(tasks)
    state = RunState(
        completed=0, matrix=[list(row0.accuracy)] + [[None] * n for _ in range(n)],
        perplexity=[row0.perplexity] + [None] * n, bits_per_byte=[row0.bits_per_byte] + [None] * n,
    )
    rid = run_id(spec.name, order, strategy_name, seed)
    faults.entering_run(rid)
    path = checkpoint_path(results_dir, rid) if results_dir is not None else None
    writes = context.parallel is None or context.parallel.is_main  # every process reads the checkpoint, one writes it
    saved = load_checkpoint(path) if path is not None else None
    resumed_from = 0
    if saved is not None:
        if saved.fingerprint != fingerprint_:
            raise UserError(
                f"{path} is a checkpoint of run {rid} made with a different configuration; pass --overwrite to start it "
                "again or choose another --out"
            )
        _check_same_threads(path, rid, saved.state.threads)
        strategy.load_state_dict(saved.strategy)
        missing = set(saved.weights) - {n for n, _ in model.named_parameters()}
        if missing:
            raise RuntimeError(f"checkpoint {path} holds weights the model does not have: {sorted(missing)[:3]}")
        model.load_state_dict(saved.weights, strict=False)
        torch.set_rng_state(saved.rng)
        state, resumed_from = saved.state, saved.state.completed
    status, error = "finished", None
    # The joint reference trains once on all tasks and fills only the last row.
    steps = [(n, tasks)] if strategy.joint else [(t, [task]) for t, task in enumerate(tasks, 1)]
    for t, learning in steps[state.completed:]:
        torch.manual_seed(derived_seed(seed, t))
        generator = torch.Generator().manual_seed(derived_seed(seed, t, 1))
        name = "joint" if strategy.joint else learning[0].name
        tick = time.perf_counter()
        try:
            for task in learning:
                strategy.before_task(model, task)
            state.trainable = max(state.trainable, count_parameters(model, trainable_only=True))
            state.trained_names = sorted(set(state.trained_names) | {n for n, p in model.named_parameters() if p.requires_grad or n not in pristine_names})
            train = getattr(strategy, "train_tasks", train_tasks)  # the Avalanche bridge brings its own engine
            stats = train(
                model, learning, strategy, config.train, pad_id=backbone.pad_id, generator=generator,
                progress=progress, description=f"{strategy_name} s{seed} task {t}/{n} {name}", fault_point=f"task{t}",
                parallel=context.parallel,
            )
            for task in learning:
                strategy.after_task(model, task)
        except NumericalFault as fault:
            status, error = "failed", str(fault)
            break
        trained = time.perf_counter()
        for j in range(n) if strategy.joint else evaluation_columns(t, n, config.eval.eval_on):
            state.matrix[t][j] = evaluator.accuracy(model, tasks[j])
            faults.reached(f"task{t}:eval")
        evaluated = time.perf_counter()
        perplexity, bits = evaluator.language_model(model)
        if perplexity is not None and not (math.isfinite(perplexity) and math.isfinite(bits)):
            # a finite loss can still leave weights whose perplexity overflows: the run diverged
            status, error = "failed", f"the general-corpus perplexity after task {t} ({name}) is {perplexity}: the model diverged"
            break
        state.perplexity[t], state.bits_per_byte[t] = perplexity, bits
        state.timings.append(TaskTiming(task=name, train_s=trained - tick, eval_s=evaluated - trained, ppl_s=time.perf_counter() - evaluated, steps=stats.steps))
        state.completed += 1
        if path is not None and writes and strategy.resumable and state.completed < len(steps):
            state_now = RunState(**{**state.__dict__, "seconds": state.seconds + time.perf_counter() - start, "threads": torch.get_num_threads()})
            save_checkpoint(path, fingerprint_=fingerprint_, state=state_now, weights=_changed_weights(model, state.trained_names), strategy=strategy.state_dict())
            faults.reached(f"task{t}:checkpointed")
    metrics = compute_metrics(as_matrix(state.matrix), state.perplexity, state.bits_per_byte) if status == "finished" else {}
    parameters = {
        "total": total_parameters, "trainable": state.trainable,
        "added": count_parameters(model) - total_parameters, "extra_bytes": strategy.extra_memory_bytes(),
    }
    record = RunRecord(
        scenario=spec.name, scenario_version=spec.version, order=order, tasks=[t.name for t in tasks],
        strategy=strategy_name, seed=seed, model=backbone.name, setting=config.setting,
        accuracy_matrix=state.matrix, perplexity=state.perplexity, bits_per_byte=state.bits_per_byte, metrics=metrics,
        parameters=parameters, timings=state.timings, total_seconds=state.seconds + time.perf_counter() - start,
        data_hashes={t.name: t.data_hash for t in tasks}, source_hashes={t.name: t.source_hash for t in tasks},
        config=to_dict(config), environment=environment, status=status, error=error, reference=strategy.reference,
        fingerprint=fingerprint_, created_at=dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
        extra={"row0_seconds": row0.seconds, "resumed_from_task": resumed_from},
    )
    return RunOutcome(record=record, model=model)
