"""Memory plans of the 7-8B models the literature runs, on 1, 2, 4 and 8 processes (the scaling page's tables).

For each model: naive, ewc, l2sp and lora with bf16 weights, with and without activation
checkpointing, in the TRACE scenario's budget (batch 32 x 2048 tokens), the per-process
total that lives on a GPU (the pretrained copy and the runtime stay on the host). The
plan is :func:`benchmark.engine.memory_plan.plan_run` on a model built on the meta device:
nothing is downloaded or loaded.

    python benchmarks/memory_plan.py
    python benchmarks/memory_plan.py --models llama-3.1-8b --scenario default
"""

from __future__ import annotations

import argparse
import dataclasses
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmark.core.environment import describe_environment  # noqa: E402
from benchmark.engine.memory_plan import GIB, ModelShape, plan_run  # noqa: E402
from benchmark.engine.strategy import build_strategy  # noqa: E402
from benchmark.model.meta_model import structure_of  # noqa: E402
from benchmark.suite.config import build_config  # noqa: E402
from scenarios.catalog import load_scenario  # noqa: E402

PROCESSES = (1, 2, 4, 8)
STRATEGIES = ("naive", "ewc", "l2sp", "lora")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--models", default="llama-3.1-8b,qwen2.5-7b")
    parser.add_argument("--scenario", default="trace")
    args = parser.parse_args()
    config = build_config(overrides=[{"scenario": args.scenario, "dtype": "bf16", "device": "cuda"}])
    longest = max(task.max_length for task in load_scenario(config.scenario).tasks)
    print(f"commit {describe_environment(1, 'cpu')['git_hash']}; scenario {args.scenario}: batch {config.train.batch_size} x {longest} tokens, "
          "bf16 weights, Adam; GiB per process on the GPU")
    for model in args.models.split(","):
        shape = ModelShape.of(structure_of(model))
        print(f"\n{model} ({shape.parameters / 1e9:.2f}B parameters)\n")
        print("| strategy | checkpointing | " + " | ".join(f"{n} process{'es' if n > 1 else ''}" for n in PROCESSES) + " |")
        print("|---|---|" + "---|" * len(PROCESSES))
        for name in STRATEGIES:
            for checkpointing in (False, True):
                suite = dataclasses.replace(config, train=dataclasses.replace(config.train, gradient_checkpointing=checkpointing))
                totals = [plan_run(shape, build_strategy(name, {}), suite, dtype="bf16", max_length=longest, shards=n).total(device=True)
                          for n in PROCESSES]
                print(f"| {name} | {'on' if checkpointing else 'off'} | " + " | ".join(f"{t / GIB:.1f}" for t in totals) + " |")


if __name__ == "__main__":
    main()
