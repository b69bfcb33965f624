"""``make leaderboard``: every built-in strategy over seeds 0-2, then the published tables and page from exactly those records.

Three suites, each into its own folder under ``--results``: the default scenario with
heads, the default scenario as text, and the generative scenario; each runs every
registered native strategy that works in its formulation (Avalanche's are a bridge to
another library, not built-in rows). Runs whose record is already there with the same
fingerprint are skipped, so after a change only the runs it touched run again. Then
``--out`` (``docs/results/leaderboard.md``) gets, per suite, the ``leaderboard --ci``
table and ``compare --baseline naive`` with its marks, under the commit and machine
that made the records, and ``--page`` the static page of every record.

    .venv/bin/python benchmarks/publish_leaderboard.py                 # runs (hours on 2 cores), then writes
    .venv/bin/python benchmarks/publish_leaderboard.py --write-only    # writes from the records already there
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmark.cli import main as run_benchmark  # noqa: E402
from benchmark.core.atomic_io import atomic_write_bytes  # noqa: E402
from benchmark.engine.strategy import STRATEGIES  # noqa: E402
from leaderboard.aggregate import aggregate, sort_rows  # noqa: E402
from leaderboard.cli import comparison_text  # noqa: E402
from leaderboard.formats import render  # noqa: E402
from leaderboard.loading import load_records  # noqa: E402
from leaderboard.page import build_page  # noqa: E402

# (folder, what the section is called, the suite's flags): the formulation is the part the strategies are chosen by.
SUITES = {
    "heads": ("the default scenario, a linear head per task", ["--scenario", "default"], "heads"),
    "text": ("the default scenario posed as text (rank scoring)", ["--scenario", "default", "--formulation", "text"], "text"),
    "generative": ("the generative scenario (free-text answers)", ["--scenario", "generative"], "generate"),
}


def strategies_for(formulation: str) -> list[str]:
    """Every registered native strategy that works in ``formulation``, in the registry's order."""
    return [
        entry.name for entry in STRATEGIES
        if ":" not in entry.name and (entry.obj.formulations is None or formulation in entry.obj.formulations)
    ]


def section(name: str, folder: Path) -> str:
    """One suite's published section: where its records come from, the table with intervals, and the paired comparison."""
    loaded = load_records(folder)
    if not loaded.records:
        return f"## {SUITES[name][0]}\n\nNo records in `{folder}` yet.\n"
    records = loaded.records
    commits = sorted({str((r.environment or {}).get("git_hash")) for r in records})
    machines = sorted({f"{(r.environment or {}).get('processor') or (r.environment or {}).get('machine')}, "
                       f"{(r.environment or {}).get('torch_threads')} thread(s)" for r in records})
    table = render(sort_rows(aggregate(records, ci=True), "acc"), "md", ci=True)
    lines = [
        f"## {SUITES[name][0]}", "",
        f"{len(records)} runs ({', '.join(sorted({r.strategy for r in records}))}; seeds "
        f"{', '.join(map(str, sorted({r.seed for r in records})))}), made at commit(s) {', '.join(commits)} on {'; '.join(machines)}.",
        "", "`leaderboard --results " + str(folder) + " --ci` (mean ± std over seeds [95% bootstrap interval of the mean]):", "", table.rstrip(),
        "", "`leaderboard compare --results " + str(folder) + " --baseline naive`:", "", comparison_text(records, "naive").rstrip(), "",
    ]
    if loaded.problems:
        lines += [f"Left out: {loaded.summary()}", ""]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--results", default="results-leaderboard", help="one folder per suite is made under it")
    parser.add_argument("--out", default="docs/results/leaderboard.md", help="the markdown page to write")
    parser.add_argument("--page", default="docs/results/leaderboard-page.html", help="the static HTML page to write")
    parser.add_argument("--suites", default=",".join(SUITES), help="which suites (heads,text,generative)")
    parser.add_argument("--seeds", default="0,1,2")
    parser.add_argument("--write-only", action="store_true", help="run nothing: write from the records already in --results")
    parser.add_argument("run_flags", nargs="*", help="after --: flags every suite's run gets (tests: --preset smoke --scenario FILE)")
    args = parser.parse_args(argv)
    names = [n.strip() for n in args.suites.split(",") if n.strip()]
    root = Path(args.results)
    for name in names if not args.write_only else []:
        _, flags, formulation = SUITES[name]
        status = run_benchmark([*flags, "--strategies", ",".join(strategies_for(formulation)), "--seeds", args.seeds,
                                "--out", str(root / name), "--no-progress", *args.run_flags])
        if status != 0:
            return status
    text = "# The leaderboard\n\nWritten by `make leaderboard` (`benchmarks/publish_leaderboard.py`) from the records it names; " \
           "every number below is that script's output.\n\n" + "\n".join(section(name, root / name) for name in names)
    atomic_write_bytes(args.out, text.encode("utf-8"), fix="pass another --out")
    every = [r for name in names for r in load_records(root / name).records]
    if every:
        atomic_write_bytes(args.page, build_page(sort_rows(aggregate(every, ci=True), "acc"), every, ci=True).encode("utf-8"), fix="pass another --page")
    print(f"wrote {args.out} and {args.page} from {len(every)} record(s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
