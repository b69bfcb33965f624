"""A full or read-only disk, a damaged cache, a damaged record: one sentence and nothing half-written, or repaired.

File-system failures are injected where the kernel reports them (``fsync`` of a
file under the chosen folder fails with ENOSPC or EROFS), so every writer's path
through :mod:`benchmark.core.atomic_io` is exercised, not a stub of it.
"""

from __future__ import annotations

import errno
import json
import os
import shutil
from collections.abc import Callable
from pathlib import Path

import pytest

import benchmark.core.atomic_io as atomic_io
import benchmark.suite.runner as runner
from benchmark.cli import main
from benchmark.core.errors import UserError
from benchmark.results.records import read_record, record_files
from tests.conftest import smoke_args, write_toy_scenario
from tests.bad_input.test_bad_input import nothing_written, write

COMPARED = ("measures", "metrics")


def fail_writes_under(monkeypatch: pytest.MonkeyPatch, root: Path, code: int) -> None:
    """Makes every fsync of a file below ``root`` fail as a full (ENOSPC) or read-only (EROFS) file system would."""
    real = os.fsync

    def fsync(fd: int) -> None:
        target = os.readlink(f"/proc/self/fd/{fd}")
        if target.startswith(str(root)):
            raise OSError(code, os.strerror(code))
        real(fd)

    monkeypatch.setattr(atomic_io.os, "fsync", fsync)


def refused(args: list[str], capsys: pytest.CaptureFixture[str], message: str) -> str:
    assert main(args) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: ") and err.count("\n") == 1, err
    assert message in err, err
    return err


def temp_files(root: Path) -> list[Path]:
    return [p for p in root.rglob("*.tmp")] if root.exists() else []


@pytest.mark.parametrize("code, reason", [(errno.ENOSPC, "No space left on device"), (errno.EROFS, "Read-only file system")])
def test_results_directory_that_cannot_be_written(tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, code: int, reason: str) -> None:
    scenario = write_toy_scenario(tmp_path / "toy")
    out = tmp_path / "results"
    fail_writes_under(monkeypatch, out, code)
    refused(smoke_args(scenario, out), capsys, f"({reason}); free space there or pass another --out")
    assert nothing_written(out)


@pytest.mark.parametrize("code, reason", [(errno.ENOSPC, "No space left on device"), (errno.EROFS, "Read-only file system")])
def test_cache_that_cannot_be_written(tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, isolated_cache: Path, code: int, reason: str) -> None:
    scenario = write_toy_scenario(tmp_path / "toy")
    out = tmp_path / "results"
    fail_writes_under(monkeypatch, isolated_cache, code)
    refused(smoke_args(scenario, out), capsys, f"({reason}); free space there or set FORGETBENCH_CACHE to a writable folder")
    assert nothing_written(out) and not temp_files(isolated_cache)


def test_cache_below_a_file(tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FORGETBENCH_CACHE", str(Path(write(tmp_path / "afile", "x")) / "cache"))
    out = tmp_path / "results"
    refused(smoke_args(write_toy_scenario(tmp_path / "toy"), out), capsys, "(a folder on its path is a file); free space there or set FORGETBENCH_CACHE")
    assert nothing_written(out)


def token_cache_files(cache: Path) -> list[Path]:
    return sorted((cache / "tokens").glob("*.json"))


@pytest.fixture(scope="module")
def reference_run(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path, Path]:
    """One clean smoke run, made once: (scenario, results directory, cache)."""
    folder = tmp_path_factory.mktemp("reference")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("FORGETBENCH_CACHE", str(folder / "cache"))
        scenario = write_toy_scenario(folder / "toy")
        assert main(smoke_args(scenario, folder / "first")) == 0
    return scenario, folder / "first", folder / "cache"


def first_run(tmp_path: Path, reference_run: tuple[Path, Path, Path], isolated_cache: Path) -> tuple[Path, dict]:
    """This test's copy of the reference run's results (in ``tmp_path / "first"``) and cache; (scenario, record)."""
    scenario, results, cache = reference_run
    shutil.copytree(results, tmp_path / "first")
    shutil.copytree(cache, isolated_cache, dirs_exist_ok=True)
    return scenario, read_record(record_files(tmp_path / "first")[0]).to_json()


Damage = Callable[[Path], str]
DAMAGES: dict[str, Damage] = {
    "an empty list": lambda p: "[]",
    "null": lambda p: "null",
    "a split with one example missing": lambda p: json.dumps({**json.loads(p.read_text()), "train": json.loads(p.read_text())["train"][1:]}),
    "non-integer ids": lambda p: json.dumps({k: [["x"] * len(row) for row in v] for k, v in json.loads(p.read_text()).items()}),
    "truncated JSON": lambda p: p.read_text()[:10],
}


@pytest.mark.parametrize("damage", sorted(DAMAGES))
def test_a_damaged_token_cache_is_detected_rebuilt_and_reported(
    damage: str, tmp_path: Path, capsys: pytest.CaptureFixture[str], isolated_cache: Path, reference_run: tuple[Path, Path, Path],
) -> None:
    scenario, reference = first_run(tmp_path, reference_run, isolated_cache)
    victim = token_cache_files(isolated_cache)[0]
    victim.write_text(DAMAGES[damage](victim))
    capsys.readouterr()
    assert main(smoke_args(scenario, tmp_path / "second")) == 0
    assert f"note: the tokenised-data cache file {victim} was damaged; it has been rebuilt" in capsys.readouterr().err
    again = read_record(record_files(tmp_path / "second")[0]).to_json()
    assert all(again[k] == reference[k] for k in COMPARED)  # the rebuilt ids are the right ones
    assert set(json.loads(victim.read_text())) == {"train", "test"}  # repaired on disk, not only in memory


def test_a_damaged_row0_cache_is_recomputed_and_reported(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], isolated_cache: Path, reference_run: tuple[Path, Path, Path],
) -> None:
    scenario, reference = first_run(tmp_path, reference_run, isolated_cache)
    (entry,) = (tmp_path / "first" / ".cache" / "row0").glob("*.json")
    entry.write_text('{"accuracy": "high"}')
    for path in record_files(tmp_path / "first"):
        path.unlink()
    capsys.readouterr()
    assert main(smoke_args(scenario, tmp_path / "first")) == 0
    assert "the row-0 cache file" in capsys.readouterr().err
    again = read_record(record_files(tmp_path / "first")[0]).to_json()
    assert all(again[k] == reference[k] for k in COMPARED)
    assert json.loads(entry.read_text())["values"]["accuracy"] == reference["measures"]["accuracy"][0]


@pytest.mark.parametrize("content", ["null", "[]", '{"schema_version": 1', '"text"'], ids=["null", "list", "truncated", "string"])
def test_a_damaged_record_at_the_runs_own_path_is_redone(
    content: str, tmp_path: Path, capsys: pytest.CaptureFixture[str], isolated_cache: Path, reference_run: tuple[Path, Path, Path],
) -> None:
    scenario, reference = first_run(tmp_path, reference_run, isolated_cache)
    (path,) = record_files(tmp_path / "first")
    path.write_text(content)
    assert main(smoke_args(scenario, tmp_path / "first")) == 0, capsys.readouterr().err
    again = read_record(path).to_json()
    assert all(again[k] == reference[k] for k in COMPARED)


def test_jobs_beyond_the_number_of_runs_are_not_counted_for_memory(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    seen: list[int] = []

    def capture(*args: object, concurrent: int, **_: object) -> None:
        seen.append(concurrent)
        raise UserError("stopped after the memory check")

    monkeypatch.setattr(runner, "check_memory", capture)
    args = smoke_args(write_toy_scenario(tmp_path / "toy"), tmp_path / "out", "--jobs", "64", "--strategies", "naive,ewc", "--seeds", "0,1")
    refused(args, capsys, "stopped after the memory check")
    assert seen == [4]  # 2 strategies x 2 seeds: at most 4 workers ever start
