"""Row 0 of text-formulation records: the pretrained model's zero-shot accuracy per task, against chance.

Reads the records of a results directory made with ``--formulation text`` and prints,
per (order, seed), each task's zero-shot accuracy (summed and per-byte ranking) with a
95% Wilson interval over its test examples and the chance level of its answers, and
whether every row of each ``frozen`` record equals its row 0 exactly. Then, per record,
ACC after the last task with a 95% Wilson interval over the pooled test examples of its
final row (the examples alone: one seed says nothing of the spread over seeds).

    .venv/bin/python benchmarks/zero_shot.py --results results-text
"""

from __future__ import annotations

import argparse
import math
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmark.results.records import read_record  # noqa: E402
from scenarios.catalog import load_scenario  # noqa: E402


def wilson(p: float, n: int, z: float = 1.96) -> tuple[float, float]:
    """95% Wilson score interval of a proportion ``p`` over ``n`` trials."""
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / (1 + z * z / n)
    return centre - half, centre + half


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--results", default="results-text")
    args = parser.parse_args()
    records = [read_record(p) for p in sorted(Path(args.results).glob("*.json"))]
    records = [r for r in records if (r.config or {}).get("formulation") == "text" and r.status == "finished"]
    seen: set[tuple[str, int, int]] = set()
    print("| scenario | order | seed | task | zero-shot ACC (%) | 95% interval | ACC/byte (%) | chance (%) | test examples |")
    print("|---|---|---|---|---|---|---|---|---|")
    for record in records:
        key = (record.scenario, record.order, record.seed)
        if key in seen:
            continue
        seen.add(key)
        spec = load_scenario(record.scenario)
        sizes = (record.config.get("test_size") or None)
        for j, name in enumerate(record.tasks):
            task = spec.task(name)
            n = sizes or task.test_size
            accuracy, per_byte = record.measures["accuracy"][0][j], record.measures["accuracy_per_byte"][0][j]
            low, high = wilson(accuracy, n)
            print(f"| {record.scenario} | {record.order} | {record.seed} | {name} | {100 * accuracy:.0f} | [{100 * low:.0f}, {100 * high:.0f}] | "
                  f"{100 * per_byte:.0f} | {100 / len(task.labels):.0f} | {n} |")
    print()
    print("| strategy | order | seed | ACC (%) | 95% interval over the final row's test examples | examples |")
    print("|---|---|---|---|---|---|")
    for record in sorted(records, key=lambda r: (r.order, r.seed, -(r.metrics.get("acc") or 0))):
        spec = load_scenario(record.scenario)
        sizes = [(record.config.get("test_size") or None) or spec.task(name).test_size for name in record.tasks]
        final = record.measures["accuracy"][-1]
        correct, n = sum(round(a * k) for a, k in zip(final, sizes)), sum(sizes)
        low, high = wilson(correct / n, n)
        print(f"| {record.strategy} | {record.order} | {record.seed} | {100 * correct / n:.2f} | [{100 * low:.1f}, {100 * high:.1f}] | {n} |")
    for record in records:
        if record.strategy == "frozen":
            R = record.measures["accuracy"]
            same = all(cell == R[0][j] for row in R[1:] for j, cell in enumerate(row) if cell is not None)
            print(f"frozen, order {record.order}, seed {record.seed}: every measured cell of rows 1-{len(R) - 1} equals row 0 exactly: {same}")


if __name__ == "__main__":
    main()
