"""One run: a strategy over one task order with one seed, checkpointed after every task.

The loop of DESIGN.md, top to bottom: the pretrained model with the run's seeded heads,
wrapped by the strategy; row 0 comes in precomputed (shared by every strategy); resume
from the checkpoint if there is one; then for each task the strategy's hooks around
training, every measure, and a checkpoint; then the record. Every task reseeds torch
from (seed, task), so a run resumed from a checkpoint produces the same numbers as one
that never stopped. The steps are in :mod:`benchmark.engine.run_steps`.
"""

from __future__ import annotations

from pathlib import Path

from benchmark.engine.plan import RunPlan
from benchmark.engine.row0_cache import RowZero
from benchmark.engine.run_wiring import RunWiring
from benchmark.engine.run_steps import (
    RunOutcome, before_training, checkpoint, make_record, measure, resume, start_run, steps_of, training_options,
)
from benchmark.engine.run_tracking import finish_tracking, start_tracking, track_row
from benchmark.engine.trainer import NumericalFault, train_tasks
from benchmark.engine.tracking import tracked


def run_one(plan: RunPlan, wiring: RunWiring, row0: RowZero, results_dir: Path | None = None) -> RunOutcome:
    """Runs (or continues, from ``results_dir``'s checkpoint) one planned run; writes no record.

    Args:
        plan: Which run (order, seed, strategy) with its id and fingerprint.
        wiring: The run's data, backbone, measures, settings and processes (and the strategy's view of them).
        row0: Every measure of the pretrained model on this run's tasks.
        results_dir: Where its checkpoint lives (None: no checkpoints).

    Returns:
        The record (finished, or failed with the reason) and the trained model.
    """
    run = start_run(plan, wiring, results_dir)
    state = resume(run, row0)
    tracking = start_tracking(run, state, results_dir)
    train = run.strategy.trainer() or train_tasks
    failure = None
    steps = steps_of(run)
    with tracked(tracking):
        for t, learning in steps[state.completed:]:
            try:
                generator = before_training(run, state, t, learning)
                trained_on = [run.strategy.training_task(run.model, task) for task in learning]
                run.stats = train(run.model, trained_on, run.strategy, wiring.context.train, generator=generator, **training_options(run, t, learning))
                for task in learning:
                    run.strategy.after_task(run.model, task)
            except NumericalFault as fault:  # the loss diverged: the run fails with the reason
                failure = str(fault)
            failure = failure or measure(run, state, t, learning)
            if failure is not None:
                break
            track_row(tracking, run, state, t)
            state.completed += 1
            if state.completed < len(steps):
                checkpoint(run, state, t)
    record = make_record(run, state, failure, row0)
    finish_tracking(tracking, record)
    return RunOutcome(record=record, model=run.model)
