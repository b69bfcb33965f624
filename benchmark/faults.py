"""Fault injection for the crash-and-resume tests: kill this process at a named point.

Set ``FORGETBENCH_FAULT`` to a point name (``task2:step3``, ``task2:eval``,
``task1:checkpointed``) and the run sends itself SIGKILL when it gets there: no
cleanup, no flush, exactly like the OOM killer or a pre-empted job. Unset, this is a
no-op; it exists so that resuming after a crash is tested for real.
"""

from __future__ import annotations

import os
import signal

FAULT_ENV = "FORGETBENCH_FAULT"


def reached(point: str) -> None:
    """Dies with SIGKILL if ``point`` is the configured fault point."""
    target = os.environ.get(FAULT_ENV)
    if target and target == point:
        os.kill(os.getpid(), signal.SIGKILL)
