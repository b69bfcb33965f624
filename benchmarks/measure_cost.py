"""What the representation measures add to a run's time: ``probe`` + ``cka`` against accuracy and perplexity alone.

Runs one strategy (default: naive) on the default scenario (order 1, seed 0) in fresh
result directories: once with ``--measures accuracy,perplexity`` and once more for every
``--extra`` group with that group added, and prints each run's total seconds, the
seconds each measure took over the run (from the records' timings), and the added share
of the plain run's time. Targets (issue 16) on SmolLM2-135M, naive: ``probe`` + ``cka``
together at most 15%, ``lm_recovery`` at most 10%.

    .venv/bin/python benchmarks/measure_cost.py                       # both groups
    .venv/bin/python benchmarks/measure_cost.py --model tiny --extra probe,cka
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from collections import defaultdict
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmark.core.environment import cpu_model, physical_cores  # noqa: E402
from benchmark.results.records import RunRecord  # noqa: E402
from benchmark.suite import runner  # noqa: E402
from benchmark.suite.config import build_config  # noqa: E402


def run_once(model: str, strategy: str, measures: list[str], threads: int) -> RunRecord:
    """One finished run's record, measured with ``measures``, in a fresh directory (nothing cached from another run)."""
    with tempfile.TemporaryDirectory() as out:
        config = build_config(overrides=[{
            "model": model, "strategies": [strategy], "seeds": [0], "orders": [1], "measures": measures, "out": out,
            "progress": False, "threads": threads,
        }])
        records: list[RunRecord] = []
        runner.run_suite(config, on_run=lambda outcome, path: records.append(outcome.record))
    return records[0]


def measure_seconds(record: RunRecord) -> dict[str, float]:
    """Seconds each measure took over the run's rows after tasks (row 0 is shared by a suite's strategies: left out)."""
    seconds: dict[str, float] = defaultdict(float)
    for step in record.timings:
        for name, value in step.measures_s.items():
            seconds[name] += value
    return dict(seconds)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default="smollm2-135m")
    parser.add_argument("--strategy", default="naive")
    parser.add_argument("--extra", action="append", help="a group of measures whose cost is measured together (repeatable; default: probe,cka and lm_recovery)")
    parser.add_argument("--threads", type=int, default=physical_cores())
    args = parser.parse_args()
    base = ["accuracy", "perplexity"]
    groups = [[name for name in group.split(",") if name] for group in (args.extra or ["probe,cka", "lm_recovery"])]
    plain = run_once(args.model, args.strategy, base, args.threads)
    measured = [run_once(args.model, args.strategy, base + group, args.threads) for group in groups]
    print(f"measure cost: {args.model}, {args.strategy}, default scenario order 1 seed 0, {args.threads} thread(s), {cpu_model()}")
    for label, record in [("accuracy,perplexity", plain)] + [(",".join(base + g), r) for g, r in zip(groups, measured)]:
        parts = ", ".join(f"{name} {value:.1f} s" for name, value in measure_seconds(record).items())
        print(f"{label:>40}: run {record.total_seconds:7.1f} s  (after-task measures: {parts})")
    for group, record in zip(groups, measured):
        added = record.total_seconds - plain.total_seconds
        # In a suite, row 0 (and a measure's row-0 work, such as lm_recovery's pretrained curve) is computed once per
        # (order, seed) and shared by every strategy: what each run adds there is its measures' after-task seconds.
        own = sum(measure_seconds(record).get(name, 0.0) for name in group)
        print(f"added by {','.join(group)}: {added:.1f} s = {100 * added / plain.total_seconds:.1f}% of the run in a fresh directory; "
              f"{own:.1f} s = {100 * own / plain.total_seconds:.1f}% per run once row 0 is shared; "
              f"same accuracy matrix: {plain.accuracy_matrix == record.accuracy_matrix}")
    print("targets: probe+cka at most 15%, lm_recovery at most 10%")

if __name__ == "__main__":
    main()
