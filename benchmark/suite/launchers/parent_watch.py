"""Workers die with their driver: a watchdog thread that ends a worker once its parent is gone.

When the driver of ``--jobs N`` is killed (SIGKILL, the OOM killer), the standard
process pool cannot tell its workers, which would go on training for nobody with
hundreds of MB each. Linux's PR_SET_PDEATHSIG fires when the parent *thread* exits,
not the process, so it is not used; polling the parent pid works on every POSIX
system and costs one system call a second.
"""

from __future__ import annotations

import os
import threading
import time

POLL_SECONDS = 1.0


def _watch(parent_pid: int) -> None:
    while True:
        if os.getppid() != parent_pid:  # re-parented: the driver is gone
            os._exit(1)  # no cleanup handlers: there is nobody left to report to
        time.sleep(POLL_SECONDS)


def exit_with_parent(parent_pid: int) -> None:
    """Process-pool initializer: starts the watchdog for ``parent_pid`` (the driver's pid)."""
    threading.Thread(target=_watch, args=(parent_pid,), name="forgetbench-parent-watch", daemon=True).start()
