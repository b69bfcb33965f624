"""How the resource guard's memory estimate compares with the real peak, per strategy.

For each strategy, runs a short suite (the default scenario cut to a few examples per
task, so every hook, training step, evaluation and perplexity pass happens) in a child
process and reads the child's peak resident memory from ``os.wait4``; prints it next to
:func:`benchmark.engine.memory_guard.estimate_run_bytes` for the same configuration. The guard
is meant to err high: an estimate below the measured peak is a bug.

    python benchmarks/memory_estimate.py
    python benchmarks/memory_estimate.py --model tiny --strategies naive,ewc
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from benchmark.model.backbones import load_backbone  # noqa: E402
from benchmark.suite.config import build_config  # noqa: E402
from benchmark.engine.memory_guard import GIB, estimate_run_bytes  # noqa: E402
from scenarios.catalog import load_scenario  # noqa: E402
from strategies.base import build_strategy  # noqa: E402

SIZES = ["--train-size", "32", "--test-size", "16"]


def peak_rss_bytes(command: list[str]) -> int:
    """Runs ``command`` and returns its peak resident set size (Linux reports KiB)."""
    with tempfile.TemporaryFile() as errors:  # a file, not a pipe: progress bars would fill a pipe and block the child
        process = subprocess.Popen(command, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=errors)
        _, status, usage = os.wait4(process.pid, 0)
        if os.waitstatus_to_exitcode(status) != 0:
            errors.seek(0)
            raise SystemExit(f"{' '.join(command)} failed:\n{errors.read().decode()}")
    return usage.ru_maxrss * 1024


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default="smollm2-135m")
    parser.add_argument("--strategies", default="naive,ewc,l2sp,aux_lm,distill,replay,adapters,lora,frozen")
    args = parser.parse_args()
    config = build_config(overrides=[{"model": args.model}])
    backbone = load_backbone(args.model)
    longest = max(task.max_length for task in load_scenario(config.scenario).tasks)
    print(f"model {args.model}, default scenario, batch {config.train.batch_size}, {SIZES[1]} train / {SIZES[3]} test per task")
    print("| strategy | estimate (GiB) | measured peak RSS (GiB) | estimate / measured |")
    print("|---|---|---|---|")
    for name in args.strategies.split(","):
        estimate = estimate_run_bytes(backbone, build_strategy(name, config.strategy_args), config, longest)
        with tempfile.TemporaryDirectory() as out:
            command = [sys.executable, "run_benchmark.py", "--model", args.model, "--strategies", name, "--out", out, *SIZES]
            measured = peak_rss_bytes(command)
        print(f"| {name} | {estimate / GIB:.2f} | {measured / GIB:.2f} | {estimate / measured:.2f} |", flush=True)


if __name__ == "__main__":
    main()
