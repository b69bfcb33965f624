"""Wall time of the default command (``python run_benchmark.py``), split by phase.

Runs the default suite in-process (or a preset, e.g. ``--preset smoke``) into a fresh
results directory and prints the total seconds and how they split between model
loading and data preparation, the shared row-0 evaluation, training (strategy hooks
included), task evaluation and perplexity evaluation. Also times a cached load of the
default model (target: under 2 s once converted).

    python benchmarks/default_run.py
    python benchmarks/default_run.py --preset smoke
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmark.model.backbones import load_backbone  # noqa: E402
from benchmark.suite.config import build_config  # noqa: E402
from benchmark.core.environment import physical_cores  # noqa: E402
from benchmark.suite.runner import run_suite  # noqa: E402
from leaderboard.formats import summary_markdown  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--preset", default=None, help="a preset instead of the plain default (e.g. smoke)")
    parser.add_argument("--strategies", default=None, help="override the default suite (comma-separated)")
    args = parser.parse_args()
    overrides = [{"progress": False}]
    if args.strategies:
        overrides.append({"strategies": args.strategies})
    with tempfile.TemporaryDirectory() as out:
        overrides.append({"out": out})
        config = build_config(preset=args.preset, overrides=overrides)
        if config.model != "tiny":
            load_backbone(config.model)  # converts and caches on a first run; not part of the timed load below
            start = time.perf_counter()
            load_backbone(config.model)
            print(f"cached load of {config.model}: {time.perf_counter() - start:.2f} s")
        start = time.perf_counter()
        records = run_suite(config)
        total = time.perf_counter() - start
    train = sum(t.train_s for r in records for t in r.timings)
    evaluation = sum(t.eval_s for r in records for t in r.timings)
    perplexity = sum(t.ppl_s for r in records for t in r.timings)
    row0 = sum({r.extra["row0_seconds"] for r in records})  # shared rows counted once
    other = total - train - evaluation - perplexity - row0
    print(summary_markdown(records))
    print(f"\nscenario {config.scenario}, model {config.model}, strategies {','.join(config.strategies)}, "
          f"seeds {config.seeds}, {physical_cores()} physical cores")
    print(f"total {total:.1f} s = training {train:.1f} s + task evaluation {evaluation:.1f} s + perplexity {perplexity:.1f} s "
          f"+ row 0 (shared) {row0:.1f} s + loading/data/other {other:.1f} s")


if __name__ == "__main__":
    main()
