"""How much a suite's headline moves with the seed: per-seed metrics, mean ± std, 95% interval, wall time.

Runs one suite (any scenario, budget overrides with ``--set``) over several seeds and
prints, per strategy, each seed's BWT, ACC and perplexity ratio, their mean and sample
std, the leaderboard's 95% bootstrap interval of the mean, the paired difference to
``--baseline`` with its interval, and the seconds per run. This is how the default
benchmark's budget was chosen (docs/results/default-benchmark.md).

    python benchmarks/seed_spread.py --strategies naive,ewc --seeds 0,1,2
    python benchmarks/seed_spread.py --strategies naive --seeds 0,1,2 --set train.lr=5e-4 --out /tmp/lr5e-4
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import numpy as np  # noqa: E402

from benchmark.core.config import parse_set_option  # noqa: E402
from benchmark.suite.config import build_config  # noqa: E402
from benchmark.core.environment import physical_cores  # noqa: E402
from benchmark.suite.runner import run_suite  # noqa: E402
from leaderboard.aggregate import BOOTSTRAP_SEED, COLUMNS, bootstrap_interval, record_value  # noqa: E402
from leaderboard.compare import paired_differences  # noqa: E402
from leaderboard.formats import SCALES  # noqa: E402

SHOWN = [c for c in COLUMNS if c.key in ("bwt", "acc", "ppl_ratio")]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scenario", default="default")
    parser.add_argument("--strategies", default="naive")
    parser.add_argument("--seeds", default="0,1,2")
    parser.add_argument("--order", default="1")
    parser.add_argument("--baseline", default="naive", help="strategy the paired differences are taken against")
    parser.add_argument("--set", action="append", default=[], metavar="KEY=VALUE", help="config overrides, as for run_benchmark.py")
    parser.add_argument("--out", required=True, help="results directory (reused: recorded runs are not run again)")
    args = parser.parse_args()
    overrides = [{"scenario": args.scenario, "strategies": args.strategies, "seeds": args.seeds, "orders": args.order, "out": args.out, "progress": False}]
    overrides += [parse_set_option(item) for item in args.set]
    config = build_config(overrides=overrides)
    start = time.perf_counter()
    records = [r for r in run_suite(config) if r.status == "finished"]
    wall = time.perf_counter() - start
    rng = np.random.default_rng(BOOTSTRAP_SEED)
    differences = {(d.strategy, d.column.key): d for d in paired_differences(records, args.baseline)} if len(config.strategies) > 1 else {}
    print(f"scenario {args.scenario}, order {args.order}, overrides {args.set or 'none'}, {physical_cores()} physical cores, wall {wall:.0f} s")
    by_strategy = {s: sorted((r for r in records if r.strategy == s), key=lambda r: r.seed) for s in config.strategies}
    for strategy, runs in by_strategy.items():
        seconds = np.mean([r.total_seconds for r in runs])
        print(f"\n{strategy}: {len(runs)} run(s), {seconds:.0f} s per run (row 0 excluded)")
        for column in SHOWN:
            scale = SCALES.get(column.kind, 1.0)
            values = np.array([record_value(r, column.path) for r in runs]) * scale
            low, high = bootstrap_interval(values, rng)
            line = f"  {column.key:9s} " + " ".join(f"{v:7.2f}" for v in values) + f" | mean {values.mean():7.2f} ± {values.std(ddof=1) if len(values) > 1 else 0:5.2f} [{low:7.2f}, {high:7.2f}]"
            paired = differences.get((strategy, column.key))
            if paired is not None:
                line += f" | vs {args.baseline} {paired.mean * scale:+7.2f} [{paired.low * scale:+7.2f}, {paired.high * scale:+7.2f}]"
            print(line)


if __name__ == "__main__":
    main()
