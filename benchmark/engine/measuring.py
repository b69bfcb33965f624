"""Taking a run's measures at one row, and the row-0 measures every strategy of a suite shares."""

from __future__ import annotations

import copy
import time
from dataclasses import dataclass, field
from typing import Any

import torch

from benchmark.core import faults
from benchmark.core.config import DEFAULT_FORMULATION
from benchmark.engine.formulations import formulation
from benchmark.engine.measures import Measure, MeasureEnv, MeasurePoint, measured_rows, not_applicable
from benchmark.engine.row0_cache import RowZero
from benchmark.engine.sharding import shard_model
from benchmark.model.backbones import Backbone
from benchmark.model.encoding import EncodedTask
from benchmark.model.task_model import TaskModel


def evaluation_columns(t: int, n_tasks: int, eval_on: str) -> list[int]:
    """Task columns measured after task ``t`` (1-based): the seen tasks, plus the next one, or all."""
    if eval_on == "all":
        return list(range(n_tasks))
    return list(range(min(t + 1, n_tasks) if eval_on == "seen_next" else t))


def new_model(backbone: Backbone, tasks: list[EncodedTask], seed: int, device: torch.device, posing: str = DEFAULT_FORMULATION) -> TaskModel:
    """A fresh copy of the pretrained backbone with the seeded heads formulation ``posing`` puts on it for ``tasks``."""
    sizes = formulation(posing).head_sizes(tasks)
    return TaskModel(copy.deepcopy(backbone.model), kind=backbone.kind, head_sizes=sizes, seed=seed, formulation=posing).to(device)


@dataclass
class MeasuredRow:
    """One row of every measure: the values by series, the seconds by measure, and a divergence if one showed."""

    values: dict[str, Any] = field(default_factory=dict)
    seconds: dict[str, float] = field(default_factory=dict)
    divergence: tuple[str, Any] | None = None


def take_measures(measures: dict[str, Measure], model: TaskModel, point: MeasurePoint, env: MeasureEnv, *, fault_point: str | None = None) -> MeasuredRow:
    """Every measure due at ``point``, in order; after a task, stops at the first that shows the model diverged.

    A per-task series' row is a list over the tasks with None where not measured; a
    measure not due at this row, or not applicable to the model (no LM head), leaves its
    series out (the row stays None).
    """
    n = len(point.tasks)
    row = MeasuredRow()
    skipped = not_applicable(measures, env.backbone)
    due = {name: measure for name, measure in measures.items() if measured_rows(measure, point.row, n) and name not in skipped}
    env.begin_point(shares_features=any(measure.reads_features for measure in due.values()))
    try:
        _take(due, model, point, env, row, fault_point)
    finally:
        env.end_point()
    return row


def _take(due: dict[str, Measure], model: TaskModel, point: MeasurePoint, env: MeasureEnv, row: MeasuredRow, fault_point: str | None) -> None:
    n = len(point.tasks)
    for name, measure in due.items():
        tick = time.perf_counter()
        got = measure.measure(model, point, env)
        row.seconds[name] = time.perf_counter() - tick
        if fault_point is not None:
            faults.reached(fault_point)
        if point.row > 0 and (divergence := measure.divergence(got)) is not None:
            row.divergence = divergence
            return
        for series, kind in measure.series.items():
            if kind == "per_task":
                cells: list[Any] = [None] * n
                for column, value in got[series].items():
                    cells[column] = value
                row.values[series] = cells
            else:
                row.values[series] = got[series]


def empty_series(measures: dict[str, Measure], row0: RowZero, n_tasks: int) -> dict[str, list[Any]]:
    """Every series of a run before training: row 0 filled in from ``row0``, the rows after each task empty."""
    values: dict[str, list[Any]] = {}
    for measure in measures.values():
        for series, kind in measure.series.items():
            later = [[None] * n_tasks for _ in range(n_tasks)] if kind == "per_task" else [None] * n_tasks
            values[series] = [row0.values.get(series), *later]
    return values


def compute_row0(backbone: Backbone, tasks: list[EncodedTask], seed: int, measures: dict[str, Measure], env: MeasureEnv, device: torch.device) -> RowZero:
    """Every measure of the untouched pretrained model (with the run's seeded heads) on every task."""
    if env.config.train.sharding == "fsdp" and env.parallel is not None and env.parallel.processes > 1:
        model = new_model(backbone, tasks, seed, torch.device("cpu"), env.config.formulation)
        shard_model(model, device)  # row 0 is measured sharded too: no process holds the whole model on its device
    else:
        model = new_model(backbone, tasks, seed, device, env.config.formulation)
    row = take_measures(measures, model, MeasurePoint(row=0, tasks=tasks, columns=list(range(len(tasks)))), env)
    return RowZero(values=row.values, seconds=0.0)
