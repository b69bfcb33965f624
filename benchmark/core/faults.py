"""Fault injection for the crash-and-resume tests: kill this process at a named point.

Set ``FORGETBENCH_FAULT`` to a point name (``task2:step3``, ``task2:eval``,
``task1:checkpointed``) and the run sends itself SIGKILL when it gets there: no
cleanup, no flush, exactly like the OOM killer or a pre-empted job. ``RUN_ID@point``
(``default__o1__ewc__s0@task2:step3``) kills only that run, e.g. one worker of a suite
spread over processes. Unset, this is a no-op; it exists so that resuming after a
crash is tested for real.
"""

from __future__ import annotations

import os
import signal

FAULT_ENV = "FORGETBENCH_FAULT"

_current_run: str | None = None


def entering_run(run_id: str) -> None:
    """Names the run this process is executing, for ``RUN_ID@point`` fault points."""
    global _current_run
    _current_run = run_id


def reached(point: str) -> None:
    """Dies with SIGKILL if ``point`` (of the current run) is the configured fault point."""
    target = os.environ.get(FAULT_ENV)
    if target and (target == point or target == f"{_current_run}@{point}"):
        os.kill(os.getpid(), signal.SIGKILL)
