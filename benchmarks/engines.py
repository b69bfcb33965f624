"""Native trainer vs the Avalanche bridge: same scenario, strategy and seed, wall time of each.

Runs ``naive`` and ``avalanche:Naive`` (the same algorithm through the two engines)
alternately, ``--repeats`` times each, into fresh results directories, and prints the
median training time per engine, the ratio, and whether the two records' accuracy
matrices and perplexities are identical. Needs the ``[avalanche]`` extra
(``make setup-avalanche``; run with ``.venv-avalanche/bin/python``).

    .venv-avalanche/bin/python benchmarks/engines.py
    .venv-avalanche/bin/python benchmarks/engines.py --model tiny --repeats 5
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmark.suite.config import build_config  # noqa: E402
from benchmark.core.environment import physical_cores  # noqa: E402
from benchmark.results.records import RunRecord  # noqa: E402
from benchmark.suite.runner import run_suite  # noqa: E402

PAIR = ("naive", "avalanche:Naive")


def one_run(strategy: str, args: argparse.Namespace) -> RunRecord:
    with tempfile.TemporaryDirectory() as out:
        config = build_config(overrides=[{
            "model": args.model, "strategies": [strategy], "out": out, "progress": False,
            "train_size": args.train_size, "test_size": args.test_size,
        }])
        return run_suite(config)[0]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default="smollm2-135m")
    parser.add_argument("--train-size", type=int, default=96, help="training examples per task")
    parser.add_argument("--test-size", type=int, default=48, help="test examples per task")
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    one_run(PAIR[0], args)  # warm-up: model conversion, tokenisation caches, row-0 cache is per directory
    train_seconds: dict[str, list[float]] = {name: [] for name in PAIR}
    records: dict[str, RunRecord] = {}
    for _ in range(args.repeats):
        for name in PAIR:
            records[name] = one_run(name, args)
            train_seconds[name].append(sum(t.train_s for t in records[name].timings))
    native, bridged = (statistics.median(train_seconds[name]) for name in PAIR)
    same = records[PAIR[0]].measures == records[PAIR[1]].measures
    print(f"model {args.model}, default scenario, {args.train_size} train / {args.test_size} test per task, "
          f"{args.repeats} repeats, {physical_cores()} physical cores")
    for name in PAIR:
        print(f"{name:>16}: training {statistics.median(train_seconds[name]):.2f} s (median; all: "
              f"{', '.join(f'{s:.2f}' for s in train_seconds[name])})")
    print(f"avalanche / native training time: {bridged / native:.3f}")
    print(f"identical accuracy matrix and perplexities: {same}")


if __name__ == "__main__":
    main()
