"""Experiment trackers (``--report-to tensorboard,wandb,mlflow``): they watch a run and write their own files.

A tracker is told, on the run's main process only: the configuration when the run
starts (or continues), every optimizer step's values (the loss and its parts, the
learning rate, the gradient norm, tokens per second), every row's scalars and the
accuracy matrix so far after each task, and the final metrics and the record at the
end. It never changes the run: a run with every tracker on writes the record it writes
without them (tested). Each library writes offline under ``<out>/trackers/`` unless
the user points it elsewhere (``MLFLOW_TRACKING_URI``, ``WANDB_MODE``).

The trainer reports steps through :func:`report_step`, a no-op unless a run is being
tracked, so training code needs no tracker argument (the Avalanche bridge's loop and
the recovery measures' fine-tuning are not reported).
"""

from __future__ import annotations

import contextlib
import importlib.util
from collections.abc import Iterator
from contextvars import ContextVar
from pathlib import Path
from typing import Any, ClassVar

from benchmark.core.errors import UserError
from benchmark.core.registry import Registry


class Tracker:
    """One library's view of one run. Subclasses write with their library; every method must leave the run alone.

    Attributes:
        package: The import name of the library the tracker needs.
    """

    package: ClassVar[str] = ""

    def __init__(self, *, folder: Path, run_id: str, config: dict[str, Any], resumed: bool, first_step: int) -> None:
        """Opens (or, when ``resumed``, continues) the tracker's run ``run_id`` under ``folder`` with the run's ``config``."""

    def log_step(self, step: int, values: dict[str, float]) -> None:
        """One optimizer step's values (1-based over the whole run)."""

    def log_row(self, row: int, values: dict[str, float], matrix: list[list[float | None]]) -> None:
        """Row ``row``'s scalars and the accuracy matrix so far (rows 0..row)."""

    def finish(self, metrics: dict[str, float], record: dict[str, Any]) -> None:
        """The run's final metrics and its record (as JSON data); the tracker's run is closed."""


TRACKERS: Registry[type[Tracker]] = Registry(
    "tracker", where="--report-to", builtin_modules=("benchmark.engine.trackers",), entry_point_group="forgetbench.trackers",
)
register_tracker = TRACKERS.register


def tracker_names(report_to: list[str]) -> list[str]:
    """The trackers ``report_to`` asks for (``none``, alone or not, asks for none)."""
    return [name for name in report_to if name != "none"]


def check_trackers(names: list[str]) -> None:
    """Refuses, before any work, an unknown tracker or one whose library is not installed, in one sentence."""
    for name in names:
        package = TRACKERS.get(name).package  # an unknown name is refused with close matches
        if package and importlib.util.find_spec(package) is None:
            raise UserError(
                f"--report-to {name} needs the {package} package, which is not installed; install the trackers extra "
                f"(pip install -e '.[trackers]'), or leave {name} out of --report-to"
            )


class RunTracking:
    """The trackers of one run, and the run's optimizer steps so far (the step axis every tracker shares)."""

    def __init__(self, trackers: list[Tracker], steps_done: int) -> None:
        self.trackers = trackers
        self.step = steps_done

    def training_step(self, values: dict[str, float]) -> None:
        self.step += 1
        for tracker in self.trackers:
            tracker.log_step(self.step, values)

    def row(self, row: int, values: dict[str, float], matrix: list[list[float | None]]) -> None:
        for tracker in self.trackers:
            tracker.log_row(row, values, matrix)

    def finish(self, metrics: dict[str, float], record: dict[str, Any]) -> None:
        for tracker in self.trackers:
            tracker.finish(metrics, record)


_ACTIVE: ContextVar[RunTracking | None] = ContextVar("forgetbench_run_tracking", default=None)


def open_tracking(names: list[str], *, out: str | Path, run_id: str, config: dict[str, Any], resumed: bool, steps_done: int) -> RunTracking:
    """Every named tracker opened on run ``run_id``, writing under ``<out>/trackers/<name>/``."""
    trackers = [
        TRACKERS.get(name)(folder=Path(out) / "trackers" / name, run_id=run_id, config=config, resumed=resumed, first_step=steps_done + 1)
        for name in names
    ]
    return RunTracking(trackers, steps_done)


@contextlib.contextmanager
def tracked(tracking: RunTracking | None) -> Iterator[RunTracking | None]:
    """Inside the block the trainer's steps go to ``tracking`` (None: nowhere)."""
    token = _ACTIVE.set(tracking)
    try:
        yield tracking
    finally:
        _ACTIVE.reset(token)


def report_step(values: dict[str, float]) -> None:
    """An optimizer step's values to the run's trackers, if the run is tracked."""
    tracking = _ACTIVE.get()
    if tracking is not None:
        tracking.training_step(values)


def is_tracked() -> bool:
    """Whether the current run has trackers (the trainer then gathers what it reports)."""
    return _ACTIVE.get() is not None
