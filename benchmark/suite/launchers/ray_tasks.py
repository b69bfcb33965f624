"""``--launcher ray``: every run of the suite is a Ray task.

On a local Ray instance by default, or on an existing cluster (``--ray-address``).
Each task asks Ray for ``cpus_per_run`` CPUs and ``gpus_per_run`` GPUs; Ray places
it, and the record comes back to the driver, which writes it into ``--out``. The
driver's prepared data goes to the object store once, so worker nodes need neither
the data files nor a network. Tasks
are not retried by Ray: a run whose worker dies is reported, and running the suite
again completes only the missing runs (from their checkpoints when ``--out`` is on a
file system the workers share).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from tqdm.auto import tqdm

from benchmark.core.config import SuiteConfig
from benchmark.core.errors import UserError
from benchmark.suite.launchers import WorkerResults
from benchmark.suite.launchers.worker import run_in_worker
from benchmark.results.records import RunRecord
from benchmark.engine.row0_cache import RowZero
from benchmark.engine.plan import RunPlan
from benchmark.suite.setup import PreparedData, run_threads


def _ray() -> Any:
    try:
        import ray
    except ImportError as exc:
        raise UserError("--launcher ray needs Ray, which is not installed; pip install 'forgetbench[ray]' or use --launcher local") from exc
    return ray


def _connect(ray: Any, address: str | None) -> bool:
    """Starts a local Ray instance or joins ``address``; returns whether this call started it."""
    if ray.is_initialized():
        return False
    try:
        ray.init(address=address, include_dashboard=False, logging_level="warning", log_to_driver=False)
    except (ConnectionError, RuntimeError, ValueError) as exc:
        where = f"the Ray cluster at {address!r}" if address else "a local Ray instance"
        raise UserError(f"could not start or reach {where} ({exc}); check --ray-address, or leave it out for a local instance") from exc
    return True


def run_as_ray_tasks(
    config: SuiteConfig, pending: list[RunPlan], rows0: dict[str, RowZero], data: PreparedData, bar: tqdm,
) -> Iterator[RunRecord]:
    """Submits every pending run as a Ray task and writes each record as it arrives."""
    ray = _ray()
    started = _connect(ray, config.launch.ray_address)
    results = WorkerResults(config, bar)
    remote = ray.remote(run_in_worker).options(
        num_cpus=config.launch.cpus_per_run or run_threads(config), num_gpus=config.launch.gpus_per_run, max_retries=0,
    )
    try:
        shared = ray.put(data)  # stored once in the object store, fetched once per node
        runs = {remote.remote(config, run, rows0[run.row0_key], shared, results.results_dir, "ray"): run for run in pending}
        waiting = list(runs)
        while waiting:
            done, waiting = ray.wait(waiting, num_returns=1)
            run = runs[done[0]]
            try:
                record_json = ray.get(done[0])
            except ray.exceptions.RayTaskError as exc:  # the run raised: the cause is forgetbench's exception
                results.failed(run, f"{type(exc.cause).__name__}: {exc.cause}", exc.cause)
                continue
            except ray.exceptions.RayError as exc:  # the worker died (killed, out of memory, node lost)
                results.failed(run, f"its Ray worker died ({type(exc).__name__})")
                continue
            yield results.finished(run, record_json)
    finally:
        if started:
            ray.shutdown()
    results.raise_if_incomplete()
