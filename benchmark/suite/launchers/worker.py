"""What a worker process (``--launcher local`` or a Ray task) does with one planned run.

A worker receives the data the driver prepared (so it reads no source file), loads
the backbone once and keeps both for the next run it is given (Ray and the process
pool both reuse workers), runs with its share of the CPU as torch threads, and
returns the record to the driver, which writes it. Per-task
checkpoints are written by the worker under the results directory, so a run resumed
elsewhere continues from them when that directory is shared.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import torch

from benchmark.core.config import SuiteConfig, to_dict
from benchmark.core.plugins import import_plugins
from benchmark.engine.parallel import make_parallel
from benchmark.engine.row0_cache import RowZero
from benchmark.engine.plan import RunPlan
from benchmark.engine.run import run_one
from benchmark.engine.strategy_building import build_strategy
from benchmark.suite.execute import wire_run
from benchmark.suite.setup import PreparedData, SuiteSetup, run_threads, setup_suite

_setups: dict[str, SuiteSetup] = {}


def _setup_for(config: SuiteConfig, launcher: str, data: PreparedData) -> SuiteSetup:
    """The suite's setup in this worker, built on first use (one suite per worker at a time)."""
    import_plugins(config.plugins)  # a worker is a fresh process: what the user's modules register must be there too
    key = json.dumps(to_dict(config), sort_keys=True, default=str)
    if key not in _setups:
        _setups.clear()
        from transformers.utils import logging as transformers_logging

        transformers_logging.disable_progress_bar()  # bars of several workers would interleave
        parallel = make_parallel(config.device, config.train.precision)
        _setups[key] = setup_suite(config, threads=run_threads(config), parallel=parallel, launcher=launcher, data=data)
    return _setups[key]


def run_in_worker(
    config: SuiteConfig, run: RunPlan, row0: RowZero, data: PreparedData, results_dir: str, launcher: str,
) -> dict[str, Any]:
    """Executes ``run`` in this worker process and returns its record as JSON data."""
    setup = _setup_for(config, launcher, data)
    torch.set_num_threads(run_threads(config))
    strategy = build_strategy(run.strategy, config.strategy_args)  # this process's only instance of it, for this run
    wiring = wire_run(setup, config, run, strategy, Path(results_dir), progress=False, worker=True)
    outcome = run_one(run, wiring, row0, Path(results_dir))
    return outcome.record.to_json()
