"""Records and checkpoints are written atomically: concurrent writers lose and corrupt nothing."""

from __future__ import annotations

import json
import multiprocessing as mp
from pathlib import Path

import pytest

from benchmark.core.atomic_io import atomic_write, atomic_write_json
from benchmark.core.errors import UserError
from benchmark.results.records import read_record, record_files, write_record
from tests.unit.test_leaderboard_table import make_record

PROCESSES, RECORDS_EACH = 8, 20


def write_many(directory: str, worker: int) -> None:
    for i in range(RECORDS_EACH):
        write_record(directory, make_record(f"w{worker}", i, acc=0.5 + worker / 100))


def overwrite_one(path: str, worker: int) -> None:
    for i in range(RECORDS_EACH):
        atomic_write_json(path, {"worker": worker, "i": i, "padding": "x" * 200_000})


def test_eight_processes_writing_twenty_records_each_lose_nothing(tmp_path: Path) -> None:
    context = mp.get_context("fork")
    workers = [context.Process(target=write_many, args=(str(tmp_path), w)) for w in range(PROCESSES)]
    for w in workers:
        w.start()
    for w in workers:
        w.join(timeout=120)
        assert w.exitcode == 0
    files = record_files(tmp_path)
    assert len(files) == PROCESSES * RECORDS_EACH
    assert {read_record(p).run_id for p in files} == {f"toy__o1__w{w}__s{i}" for w in range(PROCESSES) for i in range(RECORDS_EACH)}
    assert not [p for p in tmp_path.iterdir() if p.name.endswith(".tmp")]


def test_concurrent_writers_of_one_file_always_leave_a_whole_file(tmp_path: Path) -> None:
    target = tmp_path / "same.json"
    context = mp.get_context("fork")
    workers = [context.Process(target=overwrite_one, args=(str(target), w)) for w in range(PROCESSES)]
    for w in workers:
        w.start()
    seen = 0
    while any(w.is_alive() for w in workers):  # read while they write: never a partial file
        if target.exists():
            data = json.loads(target.read_text())
            assert len(data["padding"]) == 200_000
            seen += 1
    for w in workers:
        w.join()
        assert w.exitcode == 0
    assert json.loads(target.read_text())["i"] == RECORDS_EACH - 1
    assert seen > 0 and not [p for p in tmp_path.iterdir() if p.name.endswith(".tmp")]


def test_a_write_that_fails_midway_leaves_the_old_file_and_no_temp(tmp_path: Path) -> None:
    target = tmp_path / "record.json"
    atomic_write_json(target, {"version": 1})

    def explode(handle) -> None:  # noqa: ANN001
        handle.write(b'{"version": 2, "half')
        raise OSError("disk full")

    with pytest.raises(UserError, match=r"could not write '.*record\.json' \(disk full\); free space"):
        atomic_write(target, explode)
    assert json.loads(target.read_text()) == {"version": 1}
    assert [p.name for p in tmp_path.iterdir()] == ["record.json"]
