"""``forgetbench leaderboard``: tables, figures, a static page, and validation of run records.

    forgetbench leaderboard --results results/ [--format md|latex|csv|html|json] [--ci] [--sort KEY] [--compare BASELINE] [--out FILE]
    forgetbench leaderboard plots --results results/ --out figs/
    forgetbench leaderboard page --results results/ --out leaderboard.html
    forgetbench leaderboard validate --results results/
    forgetbench leaderboard compare --results results/ [--baseline naive]
    forgetbench leaderboard samples --results results/ [--out samples.jsonl]
    forgetbench leaderboard merge --results machine-a/ machine-b/ --out merged/
    forgetbench leaderboard export --results results/ --parquet dataset/
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path

from benchmark.core.arguments import ArgumentParser
from benchmark.core.atomic_io import atomic_write_bytes, remove_stale_temp_files
from benchmark.core.errors import UserError
from benchmark.core.printable import printable
from benchmark.results.records import RunRecord
from leaderboard.aggregate import COLUMN_KEYS, aggregate, select_columns, sort_rows
from leaderboard.formats import FORMATS, render
from leaderboard.loading import LoadedRecords, load_records


def _common(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--results", default="results", metavar="DIR", help="results directory (default: results)")


def _check_results_dir(results: str) -> None:
    if Path(results).exists() and not Path(results).is_dir():
        raise UserError(f"--results {results!r} is a file, not a directory; pass the folder that holds the records (a run's --out) to --results")
    if not Path(results).is_dir():
        raise UserError(f"results directory {results!r} does not exist; pass the --out directory of a run to --results")


def _load(results: str) -> LoadedRecords:
    """The records the leaderboard may use (:func:`_report` names what was left out).

    Raises:
        UserError: When no record is usable (none there, or every one invalid or unreadable).
    """
    _check_results_dir(results)
    loaded = load_records(results)
    if not loaded.records:
        why = (f"all {len(loaded.problems)} record file(s) there are invalid (see 'leaderboard validate --results {results}')"
               if loaded.problems else "it holds no *.json run record")
        raise UserError(f"results directory {results!r} has no usable run record, as {why}; pass the --out directory of a finished run to --results")
    return loaded


def _report(loaded: LoadedRecords) -> None:
    """The one line naming what was left out, printed once the command's output is made (an error after it prints alone)."""
    if (summary := loaded.summary()) is not None:
        print(printable(summary), file=sys.stderr)


def _emit(text: str, out: str | None) -> None:
    if out:
        remove_stale_temp_files(Path(out).parent)  # of a killed earlier write of this file or its neighbours
        atomic_write_bytes(out, text.encode("utf-8"), fix="pass another --out")
    else:
        sys.stdout.write(text if text.endswith("\n") else text + "\n")


def table_parser() -> argparse.ArgumentParser:
    """The command line of ``leaderboard``."""
    parser = ArgumentParser(prog="forgetbench leaderboard", description="Aggregate run records into a leaderboard table (subcommands: plots, page, validate, compare, samples, merge, export).")
    _common(parser)
    parser.add_argument("--format", default="md", choices=FORMATS, help="output format (default: md)")
    parser.add_argument("--ci", action="store_true", help="add 95%% bootstrap confidence intervals of the mean")
    parser.add_argument("--sort", default="acc", choices=COLUMN_KEYS, help="column to sort by, best first (default: acc)")
    parser.add_argument("--columns", metavar="KEY[,KEY]", help="show only these columns, in this order (e.g. acc,bwt,forgetting,ppl_ratio)")
    parser.add_argument("--compare", metavar="BASELINE", help="add the paired comparison with this strategy (markdown only)")
    parser.add_argument("--out", metavar="FILE", help="write here instead of printing")
    return parser


def table_command(argv: Sequence[str]) -> int:
    args = table_parser().parse_args(argv)
    if args.compare is not None and args.format != "md":
        raise UserError(f"--compare adds markdown tables, so it needs --format md (got --format {args.format}); run 'leaderboard compare' separately")
    loaded = _load(args.results)
    table = sort_rows(aggregate(loaded.records, ci=args.ci), args.sort)
    if args.columns:
        table = select_columns(table, [key.strip() for key in args.columns.split(",") if key.strip()])
    text = render(table, args.format, ci=args.ci)
    if args.compare is not None:
        text = text.rstrip("\n") + "\n\n" + comparison_text(loaded.records, args.compare)
    _report(loaded)
    _emit(text, args.out)
    return 0


def plots_parser() -> argparse.ArgumentParser:
    """The command line of ``leaderboard plots``."""
    parser = ArgumentParser(prog="forgetbench leaderboard plots", description="Write the leaderboard figures (PNG and SVG).")
    _common(parser)
    parser.add_argument("--out", default="figs", metavar="DIR", help="folder for the figures (default: figs)")
    parser.add_argument("--no-heatmaps", action="store_true", help="skip the per-run accuracy-matrix heatmaps")
    return parser


def plots_command(argv: Sequence[str]) -> int:
    args = plots_parser().parse_args(argv)
    from leaderboard.figures import write_figures

    if Path(args.out).exists() and not Path(args.out).is_dir():
        raise UserError(f"plots --out {args.out!r} is not a directory; name a folder for the figures")
    loaded = _load(args.results)
    written = write_figures(loaded.records, args.out, heatmaps=not args.no_heatmaps)
    _report(loaded)
    print(f"{len(written)} file(s) written to {Path(args.out).resolve()}")
    return 0


def page_parser() -> argparse.ArgumentParser:
    """The command line of ``leaderboard page``."""
    parser = ArgumentParser(prog="forgetbench leaderboard page", description="Write a self-contained HTML leaderboard page.")
    _common(parser)
    parser.add_argument("--out", default="leaderboard.html", metavar="FILE", help="the HTML file (default: leaderboard.html)")
    parser.add_argument("--ci", action="store_true", help="add 95%% bootstrap confidence intervals")
    parser.add_argument("--title", default="forgetbench leaderboard")
    return parser


def page_command(argv: Sequence[str]) -> int:
    args = page_parser().parse_args(argv)
    from leaderboard.page import build_page

    loaded = _load(args.results)
    page = build_page(sort_rows(aggregate(loaded.records, ci=args.ci), "acc"), loaded.records, ci=args.ci, title=args.title)
    _report(loaded)
    _emit(page, args.out)
    print(f"wrote {Path(args.out).resolve()}")
    return 0


def validate_parser() -> argparse.ArgumentParser:
    """The command line of ``leaderboard validate``."""
    parser = ArgumentParser(prog="forgetbench leaderboard validate", description="Recompute every record's metrics and check its schema; exit 1 on any problem.")
    _common(parser)
    return parser


def validate_command(argv: Sequence[str]) -> int:
    args = validate_parser().parse_args(argv)
    _check_results_dir(args.results)
    from leaderboard.validate import validate_results

    problems = validate_results(args.results)
    for line in problems:
        print(printable(line))
    print(f"{len(problems)} problem(s)" if problems else "all records valid")
    return 1 if problems else 0


def compare_parser() -> argparse.ArgumentParser:
    """The command line of ``leaderboard compare``."""
    parser = ArgumentParser(
        prog="forgetbench leaderboard compare",
        description="Paired differences to a baseline strategy (matched by scenario, order, seed and data) with 95% bootstrap intervals, and per-task McNemar tests.",
    )
    _common(parser)
    parser.add_argument("--baseline", default="naive", help="the strategy every other one is compared with (default: naive)")
    parser.add_argument("--out", metavar="FILE", help="write here instead of printing")
    return parser


def compare_command(argv: Sequence[str]) -> int:
    args = compare_parser().parse_args(argv)
    loaded = _load(args.results)
    text = comparison_text(loaded.records, args.baseline)
    _report(loaded)
    _emit(text, args.out)
    return 0


def comparison_text(records: list[RunRecord], baseline: str) -> str:
    """The paired differences to ``baseline`` and, where records store per-example outcomes, the per-task McNemar tests."""
    from leaderboard.compare import compare_markdown, comparison_notes, paired_differences
    from leaderboard.mcnemar import mcnemar_markdown, task_tests

    text = compare_markdown(paired_differences(records, baseline), baseline)
    tests = task_tests(records, baseline)
    notes = comparison_notes(records, baseline)
    return text + ("\n\n" + mcnemar_markdown(tests, baseline) if tests else "") + ("\n\n" + "\n".join(notes) if notes else "")


def samples_parser() -> argparse.ArgumentParser:
    """The command line of ``leaderboard samples``."""
    parser = ArgumentParser(
        prog="forgetbench leaderboard samples",
        description="Every stored free-text output (runs of --formulation generate) as JSON lines: run, row, task, example, prompt, output, references, score.",
    )
    _common(parser)
    parser.add_argument("--out", metavar="FILE", help="write the JSON lines here instead of printing them")
    return parser


def samples_command(argv: Sequence[str]) -> int:
    args = samples_parser().parse_args(argv)
    from leaderboard.samples import samples_jsonl

    loaded = _load(args.results)
    text = samples_jsonl(loaded.records)
    _report(loaded)
    _emit(text, args.out)
    if args.out:
        print(f"{text.count(chr(10))} sample(s) written to {Path(args.out).resolve()}")
    return 0


def merge_parser() -> argparse.ArgumentParser:
    """The command line of ``leaderboard merge``."""
    parser = ArgumentParser(
        prog="forgetbench leaderboard merge",
        description="Combine the records of several results directories (from several machines) into one, each run once: copies "
                    "with the same fingerprint are kept once (the first directory given wins), two configurations of one run are refused.",
    )
    parser.add_argument("--results", nargs="+", required=True, metavar="DIR", help="results directories to combine")
    parser.add_argument("--out", required=True, metavar="DIR", help="the results directory to write (records already there are kept)")
    return parser


def merge_command(argv: Sequence[str]) -> int:
    args = merge_parser().parse_args(argv)
    from leaderboard.merge import merge_results

    for results in args.results:
        _check_results_dir(results)
    if Path(args.out).exists() and not Path(args.out).is_dir():
        raise UserError(f"--out {args.out!r} is a file, not a directory; pass a folder for the merged records to --out")
    merged = merge_results(args.results, args.out)
    for line in merged.left_out:
        print(printable(f"left out {line}"), file=sys.stderr)
    print(f"{len(merged.written)} record(s) written to {Path(args.out).resolve()}; {merged.copies} copy(ies) of a run kept once")
    return 0


def export_parser() -> argparse.ArgumentParser:
    """The command line of ``leaderboard export``."""
    parser = ArgumentParser(
        prog="forgetbench leaderboard export",
        description="Write the records as a Parquet dataset (one row per run; matrices and outcomes as nested columns) with a dataset card, ready to push to a hub.",
    )
    _common(parser)
    parser.add_argument("--parquet", required=True, metavar="DIR", help="a new (or empty) folder for the dataset")
    return parser


def export_command(argv: Sequence[str]) -> int:
    args = export_parser().parse_args(argv)
    from leaderboard.export import export_parquet

    loaded = _load(args.results)
    folder = export_parquet(loaded.records, args.parquet)
    _report(loaded)
    print(f"{len(loaded.records)} run(s) written to {folder.resolve()} (Parquet and README.md)")
    return 0


def leaderboard_parser(argv: Sequence[str]) -> tuple[argparse.ArgumentParser, list[str]]:
    """The parser of the ``leaderboard`` (sub)command ``argv`` names, and the arguments left for it (the docs check uses it)."""
    parsers = {
        "plots": plots_parser, "page": page_parser, "validate": validate_parser, "compare": compare_parser, "samples": samples_parser,
        "merge": merge_parser, "export": export_parser,
    }
    if argv and argv[0] in parsers:
        return parsers[argv[0]](), list(argv[1:])
    return table_parser(), list(argv)


def leaderboard_command(argv: Sequence[str]) -> int:
    """Dispatches ``leaderboard [plots|page|validate|compare|samples|merge|export] ...``."""
    commands = {
        "plots": plots_command, "page": page_command, "validate": validate_command, "compare": compare_command, "samples": samples_command,
        "merge": merge_command, "export": export_command,
    }
    if argv and argv[0] in commands:
        return commands[argv[0]](argv[1:])
    return table_command(argv)
