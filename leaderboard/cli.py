"""``forgetbench leaderboard``: tables from the run records of a results directory."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path

from benchmark.atomic_io import atomic_write_bytes
from benchmark.errors import UserError
from leaderboard.aggregate import aggregate, load_records
from leaderboard.tables import markdown_table


def leaderboard_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="forgetbench leaderboard", description="Aggregate run records into a leaderboard table.")
    parser.add_argument("--results", default="results", metavar="DIR", help="results directory (default: results)")
    parser.add_argument("--format", default="md", choices=["md"], help="output format")
    parser.add_argument("--out", metavar="FILE", help="write the table here instead of printing it")
    return parser


def leaderboard_command(argv: Sequence[str]) -> int:
    """Prints (or writes) the leaderboard of ``--results``; corrupt records are reported and skipped."""
    args = leaderboard_parser().parse_args(argv)
    if not Path(args.results).is_dir():
        raise UserError(f"results directory {args.results!r} does not exist; pass the --out directory of a run to --results")
    loaded = load_records(args.results)
    for problem in loaded.problems:
        print(problem, file=sys.stderr)
    text = markdown_table(aggregate(loaded.records)) + "\n"
    if args.out:
        atomic_write_bytes(args.out, text.encode("utf-8"))
    else:
        sys.stdout.write(text)
    return 0
