"""Results that travel: ``leaderboard merge`` (several machines' records, each run once) and ``leaderboard export --parquet``."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from benchmark.cli import main
from benchmark.results.records import RunRecord
from leaderboard.loading import load_records
from tests.conftest import smoke_args, write_toy_scenario

pytestmark = pytest.mark.slow  # runs suites


@pytest.fixture(scope="module")
def machines(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """Three results directories: seeds 0-1, seeds 1-2 (seed 1 run twice, the same way), and seed 0 at another learning rate."""
    root = tmp_path_factory.mktemp("machines")
    scenario = write_toy_scenario(root / "toy", n_tasks=2, n_per_class=20, train_size=16, test_size=8)
    folders = {"a": ("--seeds", "0,1"), "b": ("--seeds", "1,2"), "other": ("--seeds", "0", "--set", "train.lr=0.001")}
    for name, extra in folders.items():
        assert main(smoke_args(scenario, root / name, *extra)) == 0
    return {name: root / name for name in folders}


def test_merging_keeps_each_run_once_and_merging_again_writes_nothing(machines: dict[str, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "merged"
    assert main(["leaderboard", "merge", "--results", str(machines["a"]), str(machines["b"]), "--out", str(out)]) == 0
    assert "3 record(s) written" in capsys.readouterr().out
    merged = load_records(out)
    assert sorted(r.seed for r in merged.records) == [0, 1, 2] and merged.problems == []
    from_a = {r.seed: r for r in load_records(machines["a"]).records}
    assert next(r for r in merged.records if r.seed == 1).to_json() == from_a[1].to_json()  # the directory given first wins
    assert main(["leaderboard", "merge", "--results", str(machines["b"]), "--out", str(out)]) == 0
    assert "0 record(s) written" in capsys.readouterr().out  # out's own records come first: everything is a copy


def test_two_configurations_of_one_run_are_refused_in_one_sentence_and_nothing_is_written(
    machines: dict[str, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str],
) -> None:
    out = tmp_path / "merged"
    assert main(["leaderboard", "merge", "--results", str(machines["a"]), str(machines["other"]), "--out", str(out)]) == 2
    err = capsys.readouterr().err.strip()
    assert err.count("\n") == 0 and "two different records" in err and "different configurations" in err
    assert not out.exists() or not any(out.iterdir())


def test_a_missing_results_directory_is_one_sentence(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["leaderboard", "merge", "--results", str(tmp_path / "nowhere"), "--out", str(tmp_path / "out")]) == 2
    assert "does not exist" in capsys.readouterr().err
    (tmp_path / "file").write_text("x")
    shutil.rmtree(tmp_path / "out", ignore_errors=True)
    assert main(["leaderboard", "merge", "--results", str(tmp_path), "--out", str(tmp_path / "file")]) == 2


def test_the_parquet_export_reads_back_with_datasets_to_every_record_and_carries_a_card(
    machines: dict[str, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str],
) -> None:
    from datasets import load_dataset

    folder = tmp_path / "dataset"
    assert main(["leaderboard", "export", "--results", str(machines["a"]), "--parquet", str(folder)]) == 0
    rows = load_dataset("parquet", data_files=str(folder / "data" / "*.parquet"), split="train")
    records = {r.run_id: r for r in load_records(machines["a"]).records}
    assert sorted(rows["run_id"]) == sorted(records) and len(rows) == 2
    for row in rows:
        record = records[row["run_id"]]
        assert RunRecord.from_json(json.loads(row["record"])).to_json() == record.to_json()  # lossless
        assert row["accuracy_matrix"] == record.accuracy_matrix and row["seed"] == record.seed  # nested, as a list of rows
        assert {m["name"]: m["value"] for m in row["metrics"]}["acc"] == pytest.approx(record.metrics["acc"])
    card = (folder / "README.md").read_text()
    assert card.startswith("---\nconfigs:") and "path: data/train-00000-of-00001.parquet" in card and "2 run(s)" in card
    assert main(["leaderboard", "export", "--results", str(machines["a"]), "--parquet", str(folder)]) == 2  # never over an export
    assert "already exists" in capsys.readouterr().err
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".dataset.")]  # no building folder left behind
