"""Wall time of one 4-run suite under each launcher: sequential, --jobs 1, --jobs 2, Ray.

The suite is the smoke preset (tiny model, default scenario, 64 train / 32 test
examples per task) with 2 strategies x 2 seeds. Each launcher runs the whole command
(``python run_benchmark.py ...``, start-up included) into a fresh results directory,
``--repeats`` times, alternating launchers; the median wall time and the speed-up over
``--jobs 1`` are printed. ``--train-size`` makes the runs longer, to see how much of the
time is start-up. Each run gets the cores divided by the runs in flight as torch threads.

    python benchmarks/suite_scaling.py
    python benchmarks/suite_scaling.py --train-size 512 --repeats 2
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from benchmark.core.environment import physical_cores  # noqa: E402

SUITE = ["--preset", "smoke", "--strategies", "naive,ewc", "--seeds", "0,1", "--no-progress"]


def launchers(cores: int) -> dict[str, list[str]]:
    """Launcher name -> its flags; runs in flight share the cores."""
    return {
        "sequential": ["--launcher", "sequential"],
        "jobs 1": ["--launcher", "local", "--jobs", "1"],
        "jobs 2": ["--launcher", "local", "--jobs", "2"],
        "ray": ["--launcher", "ray", "--cpus-per-run", str(max(1, cores // 2))],
    }


def timed(flags: list[str], args: argparse.Namespace) -> float:
    """Seconds the whole command takes, into a fresh results directory."""
    with tempfile.TemporaryDirectory() as out:
        command = [sys.executable, str(ROOT / "run_benchmark.py"), *SUITE, "--out", out, *flags]
        if args.train_size:
            command += ["--train-size", str(args.train_size)]
        start = time.perf_counter()
        done = subprocess.run(command, capture_output=True, text=True, cwd=ROOT, env=dict(os.environ, PYTHONPATH=str(ROOT)))
        seconds = time.perf_counter() - start
        if done.returncode != 0:
            raise SystemExit(f"{' '.join(flags)} failed:\n{done.stderr[-3000:]}")
        return seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--train-size", type=int, default=None, help="training examples per task (default: the smoke preset's 64)")
    parser.add_argument("--skip-ray", action="store_true", help="leave Ray out (when it is not installed)")
    args = parser.parse_args()
    cores = physical_cores()
    chosen = {name: flags for name, flags in launchers(cores).items() if not (args.skip_ray and name == "ray")}
    timed(chosen["sequential"], args)  # warm-up: tokenisation caches, page cache
    seconds: dict[str, list[float]] = {name: [] for name in chosen}
    for _ in range(args.repeats):
        for name, flags in chosen.items():
            seconds[name].append(timed(flags, args))
    base = statistics.median(seconds["jobs 1"])
    print(f"4-run suite (smoke preset, train_size {args.train_size or 64}), {cores} physical cores, median of {args.repeats}:")
    for name, values in seconds.items():
        median = statistics.median(values)
        runs = ", ".join(f"{v:.1f}" for v in values)
        print(f"  {name:<11} {median:7.1f} s   speed-up vs jobs 1: {base / median:4.2f}x   ({runs})")


if __name__ == "__main__":
    main()
