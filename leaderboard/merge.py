"""``leaderboard merge``: the records of several results directories (several machines) in one, each run once.

Two records are one run when they share :func:`leaderboard.loading.run_identity`
(model, scenario and version, how tasks were posed, order, strategy, seed). With the
same fingerprint they are copies of one run and the first is kept (the directory given
first wins, and records already in ``--out`` come before every other); with different
fingerprints they are two configurations under one name, which no table can average,
so the merge is refused, naming both files, before anything is written.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from benchmark.core.errors import UserError
from benchmark.results.records import RunRecord, slug, write_record
from leaderboard.loading import load_records, run_identity


@dataclass
class Merged:
    """What a merge writes and what it found: new records, copies dropped, files left out (invalid)."""

    written: list[Path]
    copies: int
    left_out: list[str]


def merge_results(sources: list[str], out: str) -> Merged:
    """Writes every run of ``sources`` that ``out`` does not hold yet into ``out``, atomically one record at a time.

    Raises:
        UserError: Two records of one run with different fingerprints (nothing is written then).
    """
    origin = [out] if Path(out).is_dir() else []
    kept: dict[tuple[object, ...], tuple[RunRecord, Path, bool]] = {}  # identity -> record, its file, whether out holds it
    copies, left_out = 0, []
    for directory in origin + list(sources):
        loaded = load_records(directory)
        left_out += [f"{directory}: {p}" for p in loaded.problems]
        for record, path in zip(loaded.records, loaded.paths, strict=True):
            key = run_identity(record)
            if key not in kept:
                kept[key] = (record, path, directory in origin)
                continue
            first, first_path, _ = kept[key]
            if first.fingerprint != record.fingerprint:
                raise UserError(
                    f"run {record.run_id} of model {record.model} has two different records, {first_path} and {path}, made with "
                    "different configurations (fingerprints); merge results made with the same configuration, or leave one of them out"
                )
            copies += 1
    models = {record.model for record, _, _ in kept.values()}
    written = [
        write_record(Path(out) / slug(record.model) if len(models) > 1 else Path(out), record)
        for record, _, already in kept.values() if not already
    ]
    return Merged(written=written, copies=copies, left_out=left_out)
