"""Per-example outcomes of free-text tasks: right from a task's ``correct_at``, cells of R from the scores."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from benchmark.results.generations import (
    References, decode_generations, encode_generations, encode_references, generation_outcomes, run_outcomes,
)
from benchmark.results.metrics import compute_metrics
from benchmark.results.paired import MatchedRun, paired_bootstrap, resampled_matrices
from benchmark.results.records import RunRecord, TaskTiming, read_record, write_record

OUTPUTS = ["a", "b", "c"]
REFERENCES = References("rouge_l", [["red apple pie"], ["blue sky today"], ["green grass field"]], None, None)
FIRST = ["red apple pie", "blue sky", "nothing"]  # ROUGE-L 1, .8, 0: right, right, wrong at .5
LATER = ["pie only here", "blue sky today", "green grass field"]  # 1/3, 1, 1: wrong, right, right


def cell(scores: list[float], correct_at: float = 0.5) -> str:
    return encode_generations(OUTPUTS, scores, correct_at)


def scored_cell(outputs: list[str]) -> str:
    return encode_generations(outputs, REFERENCES.scores(outputs), 0.5)


def free_text_record(strategy: str, later: list[str]) -> RunRecord:
    """A two-task free-text record (ROUGE-L, right from .5): task a answered ``FIRST`` after task 1 and ``later`` after task 2."""
    generations = [
        [scored_cell(["x", "y", "z"]), scored_cell(["x", "y", "z"])], [scored_cell(FIRST), None], [scored_cell(later), scored_cell(FIRST)],
    ]
    accuracy = [[None if c is None else decode_generations(c).accuracy for c in row] for row in generations]
    measures = {"accuracy": accuracy, "outcomes": [[None, None]] * 3, "generations": generations}  # as a run stores them
    return RunRecord(
        scenario="free", scenario_version=1, order=1, tasks=["a", "b"], strategy=strategy, seed=0, model="tiny", setting="task_incremental",
        measures=measures, metrics=compute_metrics(measures), parameters={"total": 10, "trainable": 10, "added": 0, "extra_bytes": 0},
        timings=[TaskTiming("a", 1.0, 0.5, 0.2, 4)], total_seconds=1.0, data_hashes={"a": "x", "b": "y"}, config={}, environment={},
        status="finished", extra={"references": {t: encode_references(REFERENCES) for t in "ab"}},
    )


def test_an_example_is_right_from_the_tasks_threshold_and_the_cell_is_the_mean_score() -> None:
    outcomes = generation_outcomes(cell([1.0, 0.5, 0.49], correct_at=0.5))
    assert outcomes.correct.tolist() == [True, True, False]
    assert outcomes.accuracy == pytest.approx((1.0 + 0.5 + 0.49) / 3)
    exact = generation_outcomes(cell([1.0, 0.99, 0.0], correct_at=1.0))
    assert exact.correct.tolist() == [True, False, False]


def test_a_cell_written_before_correct_at_existed_counts_only_exact_scores() -> None:
    from benchmark.results.generations import OUTPUTS_PREFIX, _pack

    old = _pack(OUTPUTS_PREFIX, {"outputs": OUTPUTS, "scores": [1.0, 0.9, 0.0]})
    assert generation_outcomes(old).correct.tolist() == [True, False, False]
    with pytest.raises(ValueError, match="correct_at"):
        decode_generations(_pack(OUTPUTS_PREFIX, {"outputs": OUTPUTS, "scores": [1.0, 0.9, 0.0], "correct_at": 0}))


def test_forgetting_and_relearning_events_count_threshold_crossings() -> None:
    assert REFERENCES.scores(FIRST) == pytest.approx([1.0, 0.8, 0.0]) and REFERENCES.scores(LATER) == pytest.approx([1 / 3, 1.0, 1.0])
    metrics = free_text_record("naive", LATER).metrics  # example 0 falls below .5, example 2 rises above it
    assert metrics["forget_events"] == pytest.approx(1 / 3)
    assert metrics["relearn_events"] == pytest.approx(1 / 3)
    assert metrics["forgetting"] == pytest.approx(0.6 - (1 / 3 + 2) / 3)  # R holds the mean scores


def test_examples_resample_their_scores_not_their_right_or_wrong() -> None:
    table = run_outcomes(free_text_record("naive", LATER).measures)
    assert table is not None
    once = [np.ones((1, 3))] * 2  # every example drawn once: the stored matrix
    resampled = resampled_matrices(table, once)[0]
    assert np.allclose(resampled, np.array(table.accuracy_matrix(), dtype=float), equal_nan=True)
    assert resampled[1][0] == pytest.approx(0.6)  # (1 + .8 + 0) / 3, not the 2/3 right that right/wrong would give
    theirs = run_outcomes(free_text_record("ewc", FIRST).measures)
    interval = paired_bootstrap([MatchedRun(strategy=theirs, baseline=table)], lambda m: float(m[-1, 0]), replicates=200)
    assert interval.mean == pytest.approx(0.6 - (1 / 3 + 2) / 3)


@pytest.mark.parametrize("version", [4, 5])
def test_an_older_free_text_record_reads_with_its_events_recomputed(tmp_path: Path, version: int) -> None:
    from leaderboard.validate import validate_results

    record = free_text_record("naive", LATER)
    raw = record.to_json()
    raw["schema_version"], raw["metrics"]["forget_events"], raw["metrics"]["relearn_events"] = version, None, None  # what it stored
    (tmp_path / "old.json").write_text(json.dumps(raw))
    assert read_record(tmp_path / "old.json").metrics["forget_events"] == pytest.approx(1 / 3)
    assert validate_results(tmp_path) == []
    raw["schema_version"] = 6  # a current record storing no events is a tampered one
    (tmp_path / "old.json").write_text(json.dumps(raw))
    assert any("forget_events" in line for line in validate_results(tmp_path))
    write_record(tmp_path, record)
    assert read_record(tmp_path / "free__o1__naive__s0.json") == record
