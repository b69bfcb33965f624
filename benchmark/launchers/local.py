"""``--launcher local --jobs N``: N runs at a time in worker processes on this machine.

Built on the standard library's process pool with the ``spawn`` start method (a
forked child would inherit torch's thread pools and locks mid-use). Each worker
keeps the suite's data and backbone between the runs it is given.
"""

from __future__ import annotations

import multiprocessing
from collections.abc import Iterator
from concurrent.futures import Future, ProcessPoolExecutor, as_completed
from concurrent.futures.process import BrokenProcessPool
from pathlib import Path

from tqdm.auto import tqdm

from benchmark.config import SuiteConfig
from benchmark.errors import UserError
from benchmark.launchers import SuiteIncomplete, record_finished
from benchmark.launchers.worker import run_in_worker
from benchmark.records import RunRecord
from benchmark.row0_cache import RowZero
from benchmark.suite_setup import PlannedRun, PreparedData


def run_in_processes(
    config: SuiteConfig, pending: list[PlannedRun], rows0: dict[str, RowZero], data: PreparedData, bar: tqdm,
) -> Iterator[RunRecord]:
    """Runs ``pending`` in ``config.launch.jobs`` processes, writing each record as it arrives.

    If a worker dies (killed, out of memory) the pool cannot go on: the runs it held
    stop, every finished record is kept, and :class:`SuiteIncomplete` names the rest.
    """
    results_dir = str(Path(config.out).resolve())
    missing: dict[str, str] = {}
    user_error: UserError | None = None
    workers = min(config.launch.jobs, len(pending))
    with ProcessPoolExecutor(max_workers=workers, mp_context=multiprocessing.get_context("spawn")) as pool:
        futures: dict[Future[dict], PlannedRun] = {
            pool.submit(run_in_worker, config, run, rows0[run.row0_key], data, results_dir, "local"): run for run in pending
        }
        for future in as_completed(futures):
            run = futures[future]
            try:
                record_json = future.result()
            except BrokenProcessPool:
                missing[run.run_id] = "a worker process died (killed or out of memory)"
                continue
            except UserError as exc:
                user_error = user_error or exc
                missing[run.run_id] = str(exc)
                continue
            except Exception as exc:  # noqa: BLE001 - reported with the run it belongs to, after the others finish
                missing[run.run_id] = f"{type(exc).__name__}: {exc}"
                continue
            bar.set_postfix_str(f"{run.strategy} seed {run.seed} order {run.order}")
            bar.update()
            yield record_finished(config, record_json)
    if user_error is not None:
        raise user_error
    if missing:
        raise SuiteIncomplete(missing)
