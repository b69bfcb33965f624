"""Memory plans: the 7-8B tables of the scaling page, and the plan against measured peaks on this CPU.

Without ``--measured``: for each model, naive, ewc, l2sp and lora with bf16 weights,
with and without activation checkpointing, in the TRACE scenario's budget (batch 32 x
2048 tokens), on 1, 2, 4 and 8 processes, the per-process total that lives on a GPU (the
pretrained copy and the runtime stay on the host). The plan is
:func:`benchmark.engine.memory_plan.plan_run` on a model built on the meta device: nothing
is downloaded or loaded.

With ``--measured``: for each model and strategy, a short run of the default scenario
(32 training and 16 test examples per task, so every hook, step, evaluation and perplexity
pass happens) in a child process, whose peak resident memory (``os.wait4``) is printed
next to the plan's total for the same flags. The plan is meant to err high.

    python benchmarks/memory_plan.py
    python benchmarks/memory_plan.py --measured --models tiny,smollm2-135m,smollm2-360m:random
"""

from __future__ import annotations

import argparse
import dataclasses
import os
import subprocess
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmark.core.environment import describe_environment  # noqa: E402
from benchmark.engine.memory_plan import GIB, ModelShape, plan_run  # noqa: E402
from benchmark.engine.strategy_building import build_strategy  # noqa: E402
from benchmark.model.meta_model import structure_of  # noqa: E402
from benchmark.suite.config import build_config  # noqa: E402
from scenarios.catalog import load_scenario  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
PROCESSES = (1, 2, 4, 8)
STRATEGIES = ("naive", "ewc", "l2sp", "lora")
MEASURED_STRATEGIES = "naive,ewc,l2sp,lora,distill"
SIZES = ("--train-size", "32", "--test-size", "16")


def peak_rss_bytes(command: list[str]) -> int | str:
    """Runs ``command`` and returns its peak resident set size (Linux reports KiB), or the memory guard's refusal."""
    with tempfile.TemporaryFile() as errors:  # a file, not a pipe: progress bars would fill a pipe and block the child
        process = subprocess.Popen(command, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=errors)
        _, status, usage = os.wait4(process.pid, 0)
        if os.waitstatus_to_exitcode(status) != 0:
            errors.seek(0)
            text = errors.read().decode()
            if "of memory are available" in text:  # the guard refused before any work: the plan does not fit here
                return text.split(" but only ")[1].split(" of memory")[0] + " available: refused by the guard"
            raise SystemExit(f"{' '.join(command)} failed:\n{text}")
    return usage.ru_maxrss * 1024


def measured(models: list[str], strategies: list[str]) -> None:
    """The plan's total against the measured peak of a short run, per model and strategy."""
    print(f"commit {describe_environment(1, 'cpu')['git_hash']}; default scenario, {SIZES[1]} train / {SIZES[3]} test examples per task, one thread")
    print("| model | strategy | plan (GiB) | measured peak RSS (GiB) | plan / measured |")
    print("|---|---|---|---|---|")
    for model in models:
        config = build_config(overrides=[{"model": model}])
        longest = max(task.max_length for task in load_scenario(config.scenario).tasks)
        structure, tasks = structure_of(model), len(load_scenario(config.scenario).tasks)
        shape = ModelShape.of(structure)
        for name in strategies:
            strategy = build_strategy(name, config.strategy_args)
            plan = plan_run(shape, strategy, config, dtype="fp32", max_length=longest, added=strategy.added_parameters(structure, tasks)).total()
            with tempfile.TemporaryDirectory() as out:
                command = [sys.executable, "run_benchmark.py", "--model", model, "--strategies", name, "--out", out,
                           "--seeds", "0", "--threads", "1", "--no-progress", *SIZES]
                peak = peak_rss_bytes(command)
            if isinstance(peak, str):
                print(f"| {model} | {name} | {plan / GIB:.2f} | {peak} | - |", flush=True)
                continue
            print(f"| {model} | {name} | {plan / GIB:.2f} | {peak / GIB:.2f} | {plan / peak:.2f} |", flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--models", default=None, help="default: llama-3.1-8b,qwen2.5-7b (with --measured: tiny,smollm2-135m,smollm2-360m:random)")
    parser.add_argument("--scenario", default="trace")
    parser.add_argument("--measured", action="store_true", help="compare the plan with the measured peak of short runs on this machine")
    parser.add_argument("--strategies", default=MEASURED_STRATEGIES, help="with --measured")
    args = parser.parse_args()
    if args.measured:
        measured((args.models or "tiny,smollm2-135m,smollm2-360m:random").split(","), args.strategies.split(","))
        return
    args.models = args.models or "llama-3.1-8b,qwen2.5-7b"
    config = build_config(overrides=[{"scenario": args.scenario, "dtype": "bf16", "device": "cuda"}])
    longest = max(task.max_length for task in load_scenario(config.scenario).tasks)
    tasks = len(load_scenario(config.scenario).tasks)
    print(f"commit {describe_environment(1, 'cpu')['git_hash']}; scenario {args.scenario}: batch {config.train.batch_size} x {longest} tokens, "
          "bf16 weights, Adam; GiB per process on the GPU")
    for model in args.models.split(","):
        structure = structure_of(model)
        shape = ModelShape.of(structure)
        print(f"\n{model} ({shape.parameters / 1e9:.2f}B parameters)\n")
        print("| strategy | checkpointing | " + " | ".join(f"{n} process{'es' if n > 1 else ''}" for n in PROCESSES) + " |")
        print("|---|---|" + "---|" * len(PROCESSES))
        for name in STRATEGIES:
            for checkpointing in (False, True):
                suite = dataclasses.replace(config, train=dataclasses.replace(config.train, gradient_checkpointing=checkpointing))
                strategy = build_strategy(name, {})
                added = strategy.added_parameters(structure, tasks)
                totals = [plan_run(shape, strategy, suite, dtype="bf16", max_length=longest, shards=n, added=added).total(device=True)
                          for n in PROCESSES]
                print(f"| {name} | {'on' if checkpointing else 'off'} | " + " | ".join(f"{t / GIB:.1f}" for t in totals) + " |")


if __name__ == "__main__":
    main()
