"""The README's headline: the default suite's table with its spread and the paired comparison, from its records.

Reads a results directory made by ``make run`` and ``make compare`` (``python
run_benchmark.py --strategies naive,l2sp``) and prints, as markdown: the command, the
commit and machine the records name, the leaderboard table with mean ± std and the 95%
bootstrap interval over seeds (a few columns), and ``leaderboard compare --baseline
naive`` (paired differences and McNemar per task). ``--write FILE`` replaces the block
between ``<!-- headline:begin -->`` and ``<!-- headline:end -->`` in FILE instead of printing,
so the numbers in the docs are this script's output, never typed.

    python run_benchmark.py --strategies naive,l2sp --out results
    python benchmarks/headline.py --results results --write README.md --write docs/results/default-benchmark.md
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmark.core.atomic_io import atomic_write_bytes  # noqa: E402
from benchmark.core.environment import cpu_model  # noqa: E402
from leaderboard.aggregate import aggregate, select_columns, sort_rows  # noqa: E402
from leaderboard.cli import comparison_text  # noqa: E402
from leaderboard.formats import render  # noqa: E402
from leaderboard.loading import load_records  # noqa: E402

COLUMNS = ["acc", "bwt", "forgetting", "learning_acc", "ppl_ratio", "seconds"]
BEGIN, END = "<!-- headline:begin -->", "<!-- headline:end -->"


def headline(results: Path) -> str:
    """The headline block for the records under ``results``."""
    records = load_records(results).records
    commits = sorted({(r.environment.get("git_hash") or "unknown")[:7] for r in records})
    packages = records[0].environment.get("packages", {})
    seeds = sorted({r.seed for r in records})
    strategies = sorted({r.strategy for r in records})
    table = render(select_columns(sort_rows(aggregate(records, ci=True), "acc"), COLUMNS), "md", ci=True)
    return "\n".join([
        BEGIN,
        f"`python run_benchmark.py --strategies {','.join(strategies)}` (the default scenario, order 1, seeds "
        f"{', '.join(map(str, seeds))}; `make run` then `make compare`) at commit {', '.join(commits)}, on a "
        f"{records[0].environment.get('physical_cores')}-core {cpu_model()} VM, torch {packages.get('torch')}, fp32. "
        "Mean ± std over seeds with the 95% bootstrap interval of the mean; printed by "
        "`python benchmarks/headline.py` from the records.",
        "",
        table.rstrip(),
        "",
        comparison_text(records, "naive").rstrip(),
        END,
    ])


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--results", type=Path, default=Path("results"))
    parser.add_argument("--write", type=Path, action="append", default=[], help="replace the headline block in this file")
    args = parser.parse_args()
    block = headline(args.results)
    if not args.write:
        print(block)
    for path in args.write:
        text = path.read_text(encoding="utf-8")
        if BEGIN not in text or END not in text:
            raise SystemExit(f"{path} has no {BEGIN} ... {END} block to replace")
        before, rest = text.split(BEGIN, 1)
        atomic_write_bytes(path, (before + block + rest.split(END, 1)[1]).encode("utf-8"))
        print(f"wrote the headline into {path}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
