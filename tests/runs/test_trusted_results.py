"""The leaderboard never uses a record validate rejects, never pairs runs whose data differ, never counts a run twice,
and says in one line what it left out."""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import pytest

from benchmark.cli import main
from tests.conftest import run_toy_suite, write_toy_scenario

COMMANDS = {  # every leaderboard reader, with where it writes
    "table": lambda out: ["--out", str(out / "board.md")],
    "compare": lambda out: ["--out", str(out / "compare.md")],
    "plots": lambda out: ["--out", str(out / "figs"), "--no-heatmaps"],
    "page": lambda out: ["--out", str(out / "page.html")],
}


@pytest.fixture(scope="module")
def runs(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """naive and l2sp on the toy scenario (same data, outcomes stored), and a naive run on a smaller test set elsewhere."""
    scenario = write_toy_scenario(tmp_path_factory.mktemp("toy"))
    out = tmp_path_factory.mktemp("results")
    for strategy in ("naive", "l2sp"):
        run_toy_suite(scenario, out / "same", strategy)
    run_toy_suite(scenario, out / "smaller", "naive", {"test_size": 12})
    return out


def leaderboard(command: str, results: Path, out: Path, capsys: pytest.CaptureFixture[str]) -> tuple[str, str]:
    """Runs one leaderboard command; returns (what it wrote, stderr)."""
    args = ([] if command == "table" else [command]) + ["--results", str(results), *COMMANDS[command](out)]
    assert main(["leaderboard", *args]) == 0
    written = out / {"table": "board.md", "compare": "compare.md", "page": "page.html"}.get(command, "")
    return (written.read_text() if written.is_file() else ""), capsys.readouterr().err


def copy_of(runs: Path, tmp_path: Path) -> Path:
    folder = tmp_path / "results"
    shutil.copytree(runs / "same", folder)
    return folder


def edit(path: Path, change: callable) -> None:
    data = json.loads(path.read_text())
    change(data)
    path.write_text(json.dumps(data))


def truncate_an_outcome(data: dict) -> None:
    data["measures"]["outcomes"][-1][0] = data["measures"]["outcomes"][-1][0][:-6]


def change_acc(data: dict) -> None:
    data["metrics"]["acc"] = 0.99


def drop_an_outcome_row(data: dict) -> None:
    data["measures"]["outcomes"][-1] = None


@pytest.mark.parametrize("command", sorted(COMMANDS))
@pytest.mark.parametrize("damage", [truncate_an_outcome, change_acc, drop_an_outcome_row], ids=lambda f: f.__name__)
def test_a_record_validate_rejects_is_left_out_of_every_output_and_named(runs: Path, tmp_path: Path, command: str, damage: callable,
                                                                        capsys: pytest.CaptureFixture[str]) -> None:
    folder = copy_of(runs, tmp_path)
    bad = next(folder.glob("*__l2sp__*.json"))
    edit(bad, damage)
    assert main(["leaderboard", "validate", "--results", str(folder)]) == 1
    capsys.readouterr()
    text, err = leaderboard(command, folder, tmp_path, capsys)
    assert err.startswith(f"left out 1 of 2 record file(s): {bad.name} (fails validation: ") and err.count("\n") == 1, err
    tables = text.split("<h2>Figures")[0]  # the page's figures are SVG, whose coordinates may read 99.0
    assert "l2sp" not in text and not re.search(r"(?<![\d.,])99\.0", tables)  # the tampered ACC of 99.0 is shown nowhere
    if command == "compare":
        assert "nothing to pair" in text  # l2sp's only run was left out, so there is no pair at all


def test_runs_on_different_data_are_not_paired_and_the_reason_is_named(runs: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    folder = tmp_path / "results"
    shutil.copytree(runs / "smaller", folder)
    shutil.copy(next((runs / "same").glob("*__l2sp__*.json")), folder)
    text, err = leaderboard("compare", folder, tmp_path, capsys)
    assert err == ""
    assert "nothing to pair" in text and "McNemar" not in text
    assert "Not paired with naive: l2sp on toy (order 1, seed 0): its data differ from the baseline's (task(s) task1, task2, task3" in text


def test_runs_on_the_same_data_are_paired_over_their_examples(runs: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    text, err = leaderboard("compare", runs / "same", tmp_path, capsys)
    assert err == "" and "| l2sp " in text and "from the test examples alone" in text and "McNemar p" in text and "Not paired" not in text


@pytest.mark.parametrize("command", sorted(COMMANDS))
def test_a_copy_or_a_backup_folder_is_read_once_and_named(runs: Path, tmp_path: Path, command: str, capsys: pytest.CaptureFixture[str]) -> None:
    folder = copy_of(runs, tmp_path)
    naive = next(folder.glob("*__naive__*.json"))
    shutil.copy(naive, folder / f"{naive.stem} (copy).json")
    (folder / "backup").mkdir()
    shutil.copy(naive, folder / "backup" / naive.name)
    text, err = leaderboard(command, folder, tmp_path, capsys)
    assert err.startswith("left out 2 of 4 record file(s): ") and err.count("\n") == 1, err
    assert f"backup/{naive.name} (an identical copy of run {naive.stem} of model tiny, already read from {naive.name})" in err
    assert f"{naive.stem} (copy).json (an identical copy" in err
    if command == "table":
        naive_row = next(line for line in text.splitlines() if "| naive " in line)
        assert naive_row.split("|")[3].strip() == "1"  # one run, not three


@pytest.mark.parametrize("args", [["page"], ["--format", "html"], ["--format", "latex"], [], ["compare"], ["plots"]], ids=str)
def test_a_folder_without_a_usable_record_is_one_sentence(runs: Path, tmp_path: Path, args: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    folder = copy_of(runs, tmp_path)
    for path in folder.glob("*.json"):
        edit(path, change_acc)
    out = tmp_path / "written"
    assert main(["leaderboard", *args, "--results", str(folder), "--out", str(out)]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: results directory") and "has no usable run record, as all 2 record file(s) there are invalid" in err and err.count("\n") == 1, err
    assert not out.exists()


def test_results_that_is_a_file_is_named_as_a_file(runs: Path, capsys: pytest.CaptureFixture[str]) -> None:
    record = next((runs / "same").glob("*.json"))
    for args in (["--results", str(record)], ["validate", "--results", str(record)]):
        assert main(["leaderboard", *args]) == 2
        assert "is a file, not a directory; pass the folder that holds the records" in capsys.readouterr().err


def test_compare_on_an_empty_folder_says_there_is_no_record(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "empty").mkdir()
    assert main(["leaderboard", "compare", "--results", str(tmp_path / "empty")]) == 2
    err = capsys.readouterr().err
    assert "has no usable run record, as it holds no *.json run record" in err and "[]" not in err
