"""Which records the leaderboard may use: every record that parses and validates, each run once.

Every table, comparison, figure and page reads records through :func:`load_records`,
so none of them ever shows a number that ``leaderboard validate`` rejects (a tampered
metric, an outcome that disagrees with its accuracy cell), and none counts a run twice
(a copy ``X (copy).json`` or a ``backup/`` folder inside ``--results`` would otherwise
add seeds that were never run and shrink every interval). What was left out is named.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from benchmark.results.records import RunRecord, read_record, record_files, slug
from leaderboard.aggregate import posed_as
from leaderboard.validate import record_problems


@dataclass
class LoadedRecords:
    """Records the leaderboard uses, and one message per record file it left out (naming the file and why)."""

    records: list[RunRecord]
    problems: list[str]
    paths: list[Path] = field(default_factory=list)  # where each record was read, in the order of ``records``

    def summary(self) -> str | None:
        """One line saying what was left out, or None when every file was used."""
        if not self.problems:
            return None
        total = len(self.records) + len(self.problems)
        return f"left out {len(self.problems)} of {total} record file(s): " + "; ".join(self.problems)


def _name(path: Path, results_dir: Path) -> str:
    return str(path.relative_to(results_dir)) if path.is_relative_to(results_dir) else str(path)


def _is_canonical(path: Path, record: RunRecord, results_dir: Path) -> bool:
    """Whether ``path`` is where a run writes this record (``<out>/<run id>.json`` or ``<out>/<model>/<run id>.json``)."""
    return path.stem == record.run_id and path.parent in (results_dir, results_dir / slug(record.model))


def run_identity(record: RunRecord) -> tuple[object, ...]:
    """What makes a run one cell of a results directory: model, scenario and its version, how tasks were posed, order, strategy, seed."""
    return (record.model, record.scenario, record.scenario_version, posed_as(record), record.order, record.strategy, record.seed)


def load_records(results_dir: str | Path) -> LoadedRecords:
    """Reads every record in ``results_dir``; files that do not parse or validate, and second copies of a run, are left out and named.

    Two files are the same run when they share :func:`run_identity`: a results directory
    holds one record per run. The copy at the
    path the run itself wrote is kept; otherwise the first by path.
    """
    directory = Path(results_dir)
    usable: list[tuple[Path, RunRecord]] = []
    problems: list[str] = []
    for path in record_files(directory):
        try:
            record = read_record(path)
        except (OSError, ValueError, KeyError, TypeError, AttributeError) as exc:
            problems.append(f"{_name(path, directory)} (not a valid run record: {type(exc).__name__}: {exc})")
            continue
        invalid = record_problems(record)
        if invalid:
            problems.append(f"{_name(path, directory)} (fails validation: {invalid[0]}; run 'leaderboard validate' for every problem)")
            continue
        usable.append((path, record))
    kept: dict[tuple[object, ...], tuple[Path, RunRecord]] = {}
    for path, record in sorted(usable, key=lambda item: (not _is_canonical(item[0], item[1], directory), item[0])):
        key = run_identity(record)
        if key in kept:
            first_path, first = kept[key]
            same = "an identical copy" if record.fingerprint == first.fingerprint else "another record of the same run (different configuration)"
            problems.append(f"{_name(path, directory)} ({same} of run {record.run_id} of model {record.model}, already read from {_name(first_path, directory)})")
            continue
        kept[key] = (path, record)
    ordered = sorted(kept.values(), key=lambda item: item[0])
    return LoadedRecords(records=[record for _, record in ordered], problems=problems, paths=[path for path, _ in ordered])
