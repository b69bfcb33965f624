"""``--launcher local --jobs N``: N runs at a time in worker processes on this machine.

Built on the standard library's process pool with the ``spawn`` start method (a
forked child would inherit torch's thread pools and locks mid-use). Each worker
keeps the suite's data and backbone between the runs it is given, and exits on its
own within a second or two if the driver dies.
"""

from __future__ import annotations

import multiprocessing
import os
from collections.abc import Iterator
from concurrent.futures import Future, ProcessPoolExecutor, as_completed
from concurrent.futures.process import BrokenProcessPool

from tqdm.auto import tqdm

from benchmark.core.config import SuiteConfig
from benchmark.core.errors import UserError
from benchmark.suite.launchers import WorkerResults
from benchmark.suite.launchers.parent_watch import exit_with_parent
from benchmark.suite.launchers.worker import run_in_worker
from benchmark.results.records import RunRecord
from benchmark.engine.row0_cache import RowZero
from benchmark.engine.plan import RunPlan
from benchmark.suite.setup import PreparedData


def run_in_processes(
    config: SuiteConfig, pending: list[RunPlan], rows0: dict[str, RowZero], data: PreparedData, bar: tqdm,
) -> Iterator[RunRecord]:
    """Runs ``pending`` in ``config.launch.jobs`` processes, writing each record as it arrives.

    If a worker dies (killed, out of memory) the pool cannot go on: the runs it held
    stop, every finished record is kept, and :class:`SuiteIncomplete` names the rest.
    """
    results = WorkerResults(config, bar)
    workers = min(config.launch.jobs, len(pending))
    spawn = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(max_workers=workers, mp_context=spawn, initializer=exit_with_parent, initargs=(os.getpid(),)) as pool:
        futures: dict[Future[dict], RunPlan] = {
            pool.submit(run_in_worker, config, run, rows0[run.row0_key], data, results.results_dir, "local"): run for run in pending
        }
        for future in as_completed(futures):
            run = futures[future]
            try:
                record_json = future.result()
            except BrokenProcessPool:
                results.failed(run, "a worker process died (killed or out of memory)")
                continue
            except Exception as exc:  # noqa: BLE001 - reported with the run it belongs to, after the others finish
                results.failed(run, str(exc) if isinstance(exc, UserError) else f"{type(exc).__name__}: {exc}", exc)
                continue
            yield results.finished(run, record_json)
    results.raise_if_incomplete()
