"""What a run tells its trackers (``--report-to``): opened with the run, a row after every task, the record at the end."""

from __future__ import annotations

import math
from pathlib import Path

from benchmark.core.config import to_dict
from benchmark.engine.run_steps import ActiveRun
from benchmark.engine.checkpoints import RunState
from benchmark.engine.tracking import RunTracking, open_tracking, tracker_names
from benchmark.results.records import RunRecord


def start_tracking(run: ActiveRun, state: RunState, results_dir: Path | None) -> RunTracking | None:
    """The run's trackers, on the main process only (None when it has none); row 0 goes to them unless the run continues."""
    config, plan, context = run.wiring.config, run.plan, run.context
    names = tracker_names(config.report_to)
    if not names or (context.parallel is not None and not context.parallel.is_main):
        return None
    tasks = [t.name for t in context.tasks]
    described = {
        **to_dict(config), "run_id": plan.run_id, "strategy": plan.strategy, "order": plan.order, "seed": plan.seed,
        "tasks": tasks, "fingerprint": plan.fingerprint,
    }
    tracking = open_tracking(
        names, out=results_dir or config.out, run_id=plan.run_id, config=described, resumed=state.completed > 0,
        steps_done=sum(timing.steps for timing in state.timings),
    )
    if state.completed == 0:
        tracking.row(0, row_scalars(state.values, 0, tasks), state.values["accuracy"][:1])
    return tracking


def track_row(tracking: RunTracking | None, run: ActiveRun, state: RunState, row: int) -> None:
    """Row ``row`` of every series and the accuracy matrix so far, to the trackers if there are any."""
    if tracking is not None:
        tasks = [t.name for t in run.context.tasks]
        tracking.row(row, row_scalars(state.values, row, tasks), state.values["accuracy"][: row + 1])


def finish_tracking(tracking: RunTracking | None, record: RunRecord) -> None:
    """The final metrics and the record to the trackers, which close their runs."""
    if tracking is not None:
        metrics = {k: float(v) for k, v in record.metrics.items() if is_number(v)}
        tracking.finish(metrics, record.to_json())


def is_number(value: object) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


def row_scalars(values: dict[str, list[object]], row: int, tasks: list[str]) -> dict[str, float]:
    """Every number of row ``row``: a scalar series by its name, a per-task one as ``<series>/<task>``; the mean accuracy over seen tasks."""
    scalars: dict[str, float] = {}
    for name, series in values.items():
        cell = series[row] if row < len(series) else None
        if is_number(cell):
            scalars[name] = float(cell)
        elif isinstance(cell, list):
            scalars.update({f"{name}/{task}": float(v) for task, v in zip(tasks, cell) if is_number(v)})
    seen = [v for v in (values["accuracy"][row] or [])[:row] if is_number(v)] if row else []
    if seen:
        scalars["accuracy/mean_seen"] = sum(seen) / len(seen)
    return scalars
