"""Row 0 of free-text records: the pretrained model's zero-shot score per task, with a 95% interval over its test examples.

Reads the records of a results directory made with ``--formulation generate`` (the
``generative`` scenario, say) and prints, per (order, seed), each task's metric and its
row-0 score (0-100) with a 95% bootstrap interval of the mean over the task's test
examples (scipy's BCa bootstrap, 2,000 resamples, seeded), from the per-example scores
every record stores. Row 0 is shared by the strategies of an (order, seed), so one
record per (order, seed) is read. Then each strategy's score on each task after the
last task (mean ± sample standard deviation over seeds), and whether every row of each
``frozen`` record equals its row 0 exactly.

    .venv/bin/python benchmarks/generative_row0.py --results results-generative
"""

from __future__ import annotations

import argparse
import statistics
import sys
from pathlib import Path

import numpy as np
from scipy.stats import bootstrap

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmark.core.environment import git_hash  # noqa: E402
from leaderboard.loading import load_records  # noqa: E402
from leaderboard.samples import record_samples  # noqa: E402


def interval(scores: list[float]) -> tuple[float, float]:
    """95% BCa bootstrap interval of the mean of ``scores`` (one value: that value twice)."""
    if len(set(scores)) < 2:
        return scores[0], scores[0]
    found = bootstrap((np.array(scores),), np.mean, n_resamples=2000, confidence_level=0.95, method="BCa", random_state=0)
    return float(found.confidence_interval.low), float(found.confidence_interval.high)


def last_rows(records: list) -> None:  # noqa: ANN001 - RunRecord
    """Each strategy's score on each task after the last task: mean ± sample std over seeds, and the seeds."""
    tasks = records[0].tasks
    print("| strategy | seeds | " + " | ".join(f"{t} after the last task" for t in tasks) + " |")
    print("|---|---|" + "---|" * len(tasks))
    for strategy in sorted({r.strategy for r in records}):
        runs = [r for r in records if r.strategy == strategy and r.tasks == tasks]
        cells = []
        for j in range(len(tasks)):
            values = [100 * r.measures["accuracy"][-1][j] for r in runs]
            spread = f" ± {statistics.stdev(values):.1f}" if len(values) > 1 else ""
            cells.append(f"{statistics.fmean(values):.1f}{spread}")
        print(f"| {strategy} | {len(runs)} | " + " | ".join(cells) + " |")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--results", type=Path, required=True)
    args = parser.parse_args()
    records = load_records(args.results).records
    print(f"records: {len(records)} from {args.results}; commit {git_hash()}\n")
    print("| order | seed | task | metric | zero-shot (row 0) | 95% interval | test examples |")
    print("|---|---|---|---|---|---|---|")
    seen: set[tuple[int, int]] = set()
    for record in sorted(records, key=lambda r: (r.order, r.seed, r.strategy)):
        if (record.order, record.seed) in seen:
            continue
        seen.add((record.order, record.seed))
        by_task: dict[str, list[float]] = {}
        metrics: dict[str, str] = {}
        for sample in record_samples(record):
            if sample["row"] == 0:
                by_task.setdefault(sample["task"], []).append(100 * sample["score"])
                metrics[sample["task"]] = sample["metric"]
        for task in record.tasks:
            scores = by_task.get(task)
            if not scores:
                continue
            low, high = interval(scores)
            print(f"| {record.order} | {record.seed} | {task} | {metrics[task]} | {sum(scores) / len(scores):.1f} | "
                  f"[{low:.1f}, {high:.1f}] | {len(scores)} |")
    print()
    last_rows(records)
    print()
    for record in sorted((r for r in records if r.strategy == "frozen"), key=lambda r: (r.order, r.seed)):
        rows = record.measures["accuracy"]
        same = all(cell is None or cell == rows[0][j] for row in rows[1:] for j, cell in enumerate(row))
        print(f"frozen, order {record.order}, seed {record.seed}: every measured cell of rows 1-{len(rows) - 1} equals row 0 exactly: {same}")


if __name__ == "__main__":
    main()
