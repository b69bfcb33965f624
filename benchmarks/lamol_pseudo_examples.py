"""LAMOL's pseudo-examples in a results directory: how many it wrote before each task and how many parsed.

Reads every ``lamol`` record (alone or composed) and prints, per run and task, the
examples written of the earlier tasks (gamma x the task's training examples, rounded
as LAMOL rounds) and how many split into a prompt and an answer of their task, which
are the only ones it trained on (``extra.strategy.lamol`` of each record).

    .venv/bin/python benchmarks/lamol_pseudo_examples.py --results results-text
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmark.core.environment import git_hash  # noqa: E402
from leaderboard.loading import load_records  # noqa: E402


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--results", required=True, help="results directory with lamol records")
    args = parser.parse_args(argv)
    records = [r for r in load_records(Path(args.results)).records if "lamol" in r.extra.get("strategy", {})]
    print(f"records: {len(records)} lamol run(s) from {args.results}; commit {git_hash()}")
    print("\n| strategy | order | seed | before task | written | parsed | parsed (%) |\n|---|---|---|---|---|---|---|")
    for record in sorted(records, key=lambda r: (r.strategy, r.order, r.seed)):
        for task, counts in record.extra["strategy"]["lamol"]["pseudo_examples"].items():
            written, parsed = counts["generated"], counts["parsed"]
            share = f"{100 * parsed / written:.0f}" if written else "-"
            print(f"| {record.strategy} | {record.order} | {record.seed} | {task} | {written} | {parsed} | {share} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
