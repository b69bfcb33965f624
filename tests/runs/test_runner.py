"""The sequential loop end to end on the tiny backbone and a toy scenario."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

import benchmark.suite.runner as runner
from benchmark.core.config import SuiteConfig
from benchmark.suite.config import build_config
from benchmark.results.records import read_record, record_files
from tests.conftest import write_toy_scenario


def toy_config(scenario: Path, out: Path, **overrides: object) -> SuiteConfig:
    base = {
        "scenario": str(scenario), "model": "tiny", "out": str(out), "progress": False, "strategies": ["naive"],
        "train": {"lr": 3e-3, "head_lr": 1e-2, "batch_size": 8, "epochs": 5},
        "eval": {"ppl_tokens": 512, "ppl_context": 64},
    }
    return build_config(overrides=[base, overrides])


def test_full_record_with_matrix_perplexity_and_metadata(toy_scenario: Path, tmp_path: Path) -> None:
    records = runner.run_suite(toy_config(toy_scenario, tmp_path / "out"))
    assert len(records) == 1
    record = read_record(record_files(tmp_path / "out")[0])
    matrix = record.accuracy_matrix
    assert len(matrix) == 4 and all(len(row) == 3 for row in matrix)
    # seen_next: row 0 all tasks; row t holds tasks 1..t+1; the last row all tasks.
    assert all(v is not None for v in matrix[0])
    assert matrix[1][:2] == [v for v in matrix[1][:2] if v is not None] and matrix[1][2] is None
    assert all(v is not None for v in matrix[2]) and all(v is not None for v in matrix[3])
    assert len(record.perplexity) == 4 and all(p > 1 for p in record.perplexity)
    assert len(record.bits_per_byte) == 4
    assert record.metrics["acc"] == pytest.approx(sum(matrix[3]) / 3)
    assert record.metrics["ppl_ratio"] == pytest.approx(record.perplexity[-1] / record.perplexity[0])
    assert set(record.data_hashes) == {"task1", "task2", "task3"}
    assert [t.task for t in record.timings] == ["task1", "task2", "task3"]
    assert record.parameters["trainable"] == record.parameters["total"] > 0
    assert record.environment["packages"]["torch"]
    assert record.config["train"]["lr"] == 3e-3 and record.status == "finished"
    # The toy tasks are learnable: every task is learned well above chance right after training.
    # Each task is learned: right after training on it, 20 points above chance (the toy's tasks have 2, 3 and 2 classes).
    assert all(matrix[t][t - 1] >= 1 / classes + 0.2 for t, classes in zip(range(1, 4), (2, 3, 2)))


@pytest.mark.parametrize(("eval_on", "row1"), [("seen", [True, False, False]), ("all", [True, True, True])])
def test_eval_on_controls_which_cells_are_filled(toy_scenario: Path, tmp_path: Path, eval_on: str, row1: list[bool]) -> None:
    (record,) = runner.run_suite(toy_config(toy_scenario, tmp_path / "out", eval={"eval_on": eval_on}))
    assert [v is not None for v in record.accuracy_matrix[1]] == row1


def test_row0_is_computed_once_and_shared_by_strategies(toy_scenario: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    calls = []
    original = runner.compute_row0
    monkeypatch.setattr(runner, "compute_row0", lambda *a, **k: calls.append(1) or original(*a, **k))
    config = toy_config(toy_scenario, tmp_path / "out", strategies=["naive", "naive+frozen"])
    first, second = runner.run_suite(config)
    assert len(calls) == 1
    assert first.accuracy_matrix[0] == second.accuracy_matrix[0]
    assert first.perplexity[0] == second.perplexity[0]
    runner.run_suite(config)  # a second suite on the same results directory reuses the cached row
    assert len(calls) == 1
    assert len(list((tmp_path / "out" / ".cache" / "row0").glob("*.json"))) == 1


@pytest.mark.slow
def test_same_seed_same_numbers_different_seed_different_split(toy_scenario: Path, tmp_path: Path) -> None:
    (a,) = runner.run_suite(toy_config(toy_scenario, tmp_path / "a"))
    (b,) = runner.run_suite(toy_config(toy_scenario, tmp_path / "b"))
    (c,) = runner.run_suite(toy_config(toy_scenario, tmp_path / "c", seeds=[1]))
    assert a.accuracy_matrix == b.accuracy_matrix and a.perplexity == b.perplexity
    assert a.data_hashes != c.data_hashes


@pytest.mark.slow
def test_task_order_changes_the_sequence(toy_scenario: Path, tmp_path: Path) -> None:
    first, second = runner.run_suite(toy_config(toy_scenario, tmp_path / "out", orders=[1, 2]))
    assert first.tasks == ["task1", "task2", "task3"] and second.tasks == ["task3", "task2", "task1"]
    assert first.order == 1 and second.order == 2
    assert len(record_files(tmp_path / "out")) == 2


def test_class_incremental_run_completes(tmp_path: Path) -> None:
    scenario = write_toy_scenario(tmp_path / "toy", n_tasks=2)
    (record,) = runner.run_suite(toy_config(scenario, tmp_path / "out", setting="class_incremental"))
    assert record.setting == "class_incremental"
    assert all(v is not None for v in record.accuracy_matrix[2])


def test_no_temporary_files_are_left_behind(toy_scenario: Path, tmp_path: Path) -> None:
    runner.run_suite(toy_config(toy_scenario, tmp_path / "out"))
    leftovers = [p for p in (tmp_path / "out").rglob("*") if p.name.endswith(".tmp")]
    assert leftovers == []
    for path in record_files(tmp_path / "out"):
        json.loads(path.read_text())
