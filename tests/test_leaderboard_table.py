"""Records -> aggregated leaderboard rows and the markdown table."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from benchmark.records import SCHEMA_VERSION, RunRecord, TaskTiming, read_record, write_record
from leaderboard.aggregate import aggregate, load_records
from leaderboard.tables import markdown_table


def make_record(strategy: str, seed: int, acc: float, forgetting: float | None, ppl_ratio: float | None = 1.2) -> RunRecord:
    return RunRecord(
        scenario="toy", scenario_version=1, order=1, tasks=["a", "b"], strategy=strategy, seed=seed, model="tiny",
        setting="task_incremental", accuracy_matrix=[[0.5, 0.5], [0.9, 0.5], [0.8, 0.9]], perplexity=[10.0, 11.0, 12.0],
        bits_per_byte=[1.0, 1.1, 1.2], metrics={"acc": acc, "forgetting": forgetting, "ppl_ratio": ppl_ratio},
        parameters={"total": 1000, "trainable": 1000}, timings=[TaskTiming("a", 1.0, 0.5, 0.2, 4)], total_seconds=2.0,
        data_hashes={"a": "x", "b": "y"}, config={}, environment={},
    )


def test_record_round_trips_through_json(tmp_path: Path) -> None:
    record = make_record("naive", 0, 0.8, 0.1)
    path = write_record(tmp_path, record)
    assert path.name == "toy__o1__naive__s0.json"
    assert read_record(path) == record
    assert json.loads(path.read_text())["schema_version"] == SCHEMA_VERSION


def test_mean_std_and_n_per_strategy() -> None:
    records = [make_record("naive", 0, 0.80, 0.10), make_record("naive", 1, 0.70, 0.20), make_record("ewc", 0, 0.9, None)]
    table = aggregate(records).set_index("strategy")
    assert table.loc["naive", "n"] == 2
    assert table.loc["naive", "metrics.acc:mean"] == pytest.approx(0.75)
    assert table.loc["naive", "metrics.acc:std"] == pytest.approx(0.0707106781)  # sample std of 0.8, 0.7
    text = markdown_table(aggregate(records))
    assert "75.0 ± 7.1" in text  # ACC in percent with std
    assert "| ewc " in text and " - " in text  # ewc has no forgetting value: a dash, no crash
    assert "ACC ↑ (%)" in text and "Forgetting ↓ (%)" in text and "PPL ratio ↓" in text


def test_corrupt_and_foreign_files_are_reported_and_skipped(tmp_path: Path) -> None:
    write_record(tmp_path, make_record("naive", 0, 0.8, 0.1))
    (tmp_path / "broken.json").write_text('{"schema_version": 1, "scen')
    (tmp_path / "other.json").write_text('{"hello": 1}')
    loaded = load_records(tmp_path)
    assert len(loaded.records) == 1
    assert sorted(p.split(":")[0] for p in loaded.problems) == ["broken.json", "other.json"]
