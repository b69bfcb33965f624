"""Launchers: how a suite's independent runs are executed.

``sequential`` runs them one after another in this process (which may itself be one
of several processes of ``accelerate launch``, all running each run together);
``local`` hands them to ``jobs`` worker processes on this machine; ``ray`` makes each
run a Ray task. Every launcher receives the same planned runs and precomputed row-0
evaluations, and the driver alone writes records, so a suite's results directory
looks the same whichever launcher filled it.
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from tqdm.auto import tqdm

from benchmark.engine.checkpoints import remove_checkpoint
from benchmark.core.config import SuiteConfig
from benchmark.core.errors import UserError
from benchmark.results.records import RunRecord, write_record
from benchmark.engine.row0_cache import RowZero
from benchmark.engine.plan import RunPlan
from benchmark.suite.execute import wire_run
from benchmark.engine.run import run_one
from benchmark.engine.strategy import Strategy
from benchmark.suite.setup import SuiteSetup
from benchmark.engine.run_steps import RunOutcome


class SuiteIncomplete(RuntimeError):
    """Some runs did not finish because their worker died; the finished ones are recorded."""

    def __init__(self, missing: dict[str, str]) -> None:
        names = ", ".join(sorted(missing))
        reason = next(iter(missing.values()))
        super().__init__(
            f"{len(missing)} run(s) did not finish ({names}): {reason}; finished runs are recorded, and running the "
            "same command again completes only the missing ones (from their last checkpoint)"
        )
        self.missing = missing


def record_finished(config: SuiteConfig, record: RunRecord) -> Path:
    """Writes a finished run's record into the results directory, then drops the run's checkpoint."""
    path = write_record(config.out, record)
    if not config.keep_checkpoints:  # only after the record is safely on disk
        remove_checkpoint(config.out, record.run_id)
    return path


class WorkerResults:
    """What a pool of workers hands back: records to write, and runs that did not finish.

    One policy for every launcher that runs elsewhere (``local``, ``ray``): a record is
    written as soon as it arrives; a failure is remembered and the other runs go on;
    at the end a user's mistake is raised as it is (exit 2), anything else as
    :class:`SuiteIncomplete`.
    """

    def __init__(self, config: SuiteConfig, bar: tqdm) -> None:
        self.config = config
        self.bar = bar
        self.results_dir = str(Path(config.out).resolve())  # workers may run in another directory
        self.missing: dict[str, str] = {}
        self.user_error: UserError | None = None

    def finished(self, run: RunPlan, record_json: dict[str, Any]) -> RunRecord:
        """Writes the record a worker returned for ``run``."""
        record = RunRecord.from_json(record_json)
        record_finished(self.config, record)
        self.bar.set_postfix_str(f"{run.strategy} seed {run.seed} order {run.order}")
        self.bar.update()
        return record

    def failed(self, run: RunPlan, reason: str, error: BaseException | None = None) -> None:
        """Remembers that ``run`` did not finish, and why."""
        if isinstance(error, UserError) and self.user_error is None:
            self.user_error = error
        self.missing[run.run_id] = reason

    def raise_if_incomplete(self) -> None:
        """Raises the first user error, else :class:`SuiteIncomplete`, if any run did not finish."""
        if self.user_error is not None:
            raise self.user_error
        if self.missing:
            raise SuiteIncomplete(self.missing)


def launch_runs(
    setup: SuiteSetup, config: SuiteConfig, pending: list[RunPlan], rows0: dict[str, RowZero], strategies: dict[str, Strategy], *,
    on_run: Callable[[RunOutcome, Path], None] | None = None, already: int = 0,
) -> Iterator[RunRecord]:
    """Executes ``pending`` with the configured launcher, yielding each record once it is written.

    ``sequential`` runs here, one after another, each from a copy of its checked
    strategy in ``strategies`` (with accelerate every process takes part and the main one
    writes); ``local`` and ``ray`` hand the runs to workers, which build their own.

    Raises:
        SuiteIncomplete: After every other run finished, if a worker died.
    """
    bar = tqdm(total=already + len(pending), initial=already, desc="runs", unit="run",
               disable=not config.progress or not setup.parallel.is_main, dynamic_ncols=True)
    try:
        if config.launch.launcher == "local" and pending:
            from benchmark.suite.launchers.local import run_in_processes

            yield from run_in_processes(config, pending, rows0, setup.data, bar)
        elif config.launch.launcher == "ray" and pending:
            from benchmark.suite.launchers.ray_tasks import run_as_ray_tasks

            yield from run_as_ray_tasks(config, pending, rows0, setup.data, bar)
        else:
            for run in pending:
                bar.set_postfix_str(f"{run.strategy} seed {run.seed} order {run.order}")
                wiring = wire_run(setup, config, run, copy.deepcopy(strategies[run.strategy]), Path(config.out))
                outcome = run_one(run, wiring, rows0[run.row0_key], Path(config.out))
                if setup.parallel.is_main:
                    path = record_finished(config, outcome.record)
                    if on_run is not None:
                        on_run(outcome, path)
                bar.update()
                yield outcome.record
    finally:
        bar.close()
