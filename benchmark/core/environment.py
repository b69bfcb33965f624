"""What a record says about where it ran: versions, git hash, cores, threads."""

from __future__ import annotations

import os
import platform
import subprocess
import sys
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path

RECORDED_PACKAGES = ("torch", "transformers", "datasets", "pandas", "numpy", "tokenizers", "peft", "accelerate", "avalanche-lib")


def physical_cores() -> int:
    """Physical cores available to this process (hyper-threads do not count).

    torch defaults to one thread per logical CPU; on this workload more threads than
    physical cores was 1.2-1.3x slower, so the harness sets threads to this number.
    Reads /proc/cpuinfo because the standard library only reports logical CPUs.
    """
    allowed = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)
    try:
        text = Path("/proc/cpuinfo").read_text()
    except OSError:
        return allowed
    cores: set[tuple[str, str]] = set()
    physical_id = core_id = ""
    for line in text.splitlines() + [""]:
        key, _, value = line.partition(":")
        key = key.strip()
        if key == "physical id":
            physical_id = value.strip()
        elif key == "core id":
            core_id = value.strip()
        elif not line.strip() and core_id:
            cores.add((physical_id, core_id))
            physical_id = core_id = ""
    if not cores:
        return allowed
    threads_per_core = max(1, (os.cpu_count() or len(cores)) // len(cores))
    return max(1, min(len(cores), allowed // threads_per_core or 1))


def default_threads() -> int:
    """torch threads of a run given no ``threads``: ``OMP_NUM_THREADS`` when set, else :func:`physical_cores`.

    A scheduler (SLURM, ``torchrun``) sets ``OMP_NUM_THREADS`` to a job's CPU share, and
    torch itself reads it; the harness used to override it with every physical core,
    oversubscribing shared nodes.
    """
    value = os.environ.get("OMP_NUM_THREADS", "").strip()
    return int(value) if value.isdigit() and int(value) > 0 else physical_cores()


def git_hash(directory: Path | None = None) -> str | None:
    """The commit of the harness source tree, with ``+dirty`` if it has local changes."""
    where = directory or Path(__file__).resolve().parent.parent
    try:
        commit = subprocess.run(
            ["git", "rev-parse", "HEAD"], cwd=where, capture_output=True, text=True, timeout=10, check=True
        ).stdout.strip()
        dirty = subprocess.run(
            ["git", "status", "--porcelain", "--untracked-files=no"], cwd=where, capture_output=True, text=True, timeout=10
        ).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return None
    return commit + ("+dirty" if dirty else "")


def package_versions() -> dict[str, str | None]:
    """Installed versions of the packages that change numbers."""
    found: dict[str, str | None] = {}
    for name in RECORDED_PACKAGES:
        try:
            found[name] = version(name)
        except PackageNotFoundError:
            found[name] = None
    return found


def describe_environment(threads: int, device: str) -> dict[str, object]:
    """Everything a record stores about the machine and software."""
    return {
        "git_hash": git_hash(),
        "python": sys.version.split()[0],
        "platform": platform.platform(),
        "machine": platform.machine(),
        "processor": platform.processor() or None,
        "physical_cores": physical_cores(),
        "torch_threads": threads,
        "device": device,
        "packages": package_versions(),
    }


def cpu_model() -> str:
    """The CPU's model name (Linux /proc/cpuinfo; else what the platform module knows), for benchmark print-outs."""
    try:
        for line in Path("/proc/cpuinfo").read_text(encoding="utf-8").splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()
