"""Per-example outcomes: they reproduce the stored accuracy matrix exactly, tampering is caught, forgetting events count flips."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from benchmark.results.outcome_metrics import flips_by_transition, forgetting_events, relearning_events, transition_flips
from benchmark.results.outcomes import OutcomeTable, Outcomes, decode, encode, layer_count, layer_slice, outcome_table
from benchmark.results.records import read_record
from leaderboard.validate import validate_results
from tests.conftest import run_toy_suite, write_toy_scenario


@settings(max_examples=50, deadline=None)
@given(st.lists(st.tuples(st.integers(0, 60), st.integers(-1, 60)), min_size=1, max_size=400))
def test_a_cell_decodes_to_the_classes_it_was_given(pairs: list[tuple[int, int]]) -> None:
    gold, chosen = zip(*pairs)
    got = decode(encode(gold, chosen))
    assert got.gold.tolist() == list(gold) and got.chosen.tolist() == list(chosen)
    assert got.accuracy == sum(g == c for g, c in pairs) / len(pairs)


def test_a_layered_series_slices_into_one_table_per_layer_and_a_missing_layer_is_named() -> None:
    a, b, c = encode([0, 1], [0, 0]), encode([0, 1], [0, 1]), encode([0, 1], [1, 0])
    values = [[[a, b], [b, c]], None, [[c, a], None]]  # rows x tasks x layers; the middle row unmeasured
    assert layer_count(values) == 2
    assert layer_slice(values, 1) == [[b, c], None, [a, None]]
    assert outcome_table(layer_slice(values, 0)).accuracy_matrix() == [[0.5, 1.0], [None, None], [0.0, None]]
    with pytest.raises(ValueError, match="no entry for layer 2"):
        layer_slice(values, 2)
    with pytest.raises(ValueError, match="no entry for layer 0"):
        layer_slice([[a]], 0)  # a plain cell where a list over layers belongs


@pytest.mark.parametrize("cell", ["o1:???", "o1:" + "eJwDAAAAAAE=", "text", "o1:"])
def test_a_damaged_cell_is_refused(cell: str) -> None:
    with pytest.raises(ValueError, match="outcomes cell"):
        decode(cell)


@pytest.fixture(scope="module")
def scenario(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_toy_scenario(tmp_path_factory.mktemp("toy"))


@pytest.fixture(scope="module")
def naive_run(scenario: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("naive")
    run_toy_suite(scenario, out, "naive")
    return out


def only_record(out: Path) -> Path:
    (path,) = sorted(out.glob("*.json"))
    return path


@pytest.mark.parametrize("formulation", ["heads", "text"])
def test_outcomes_reproduce_every_accuracy_cell_exactly(scenario: Path, tmp_path: Path, naive_run: Path, formulation: str) -> None:
    out = naive_run if formulation == "heads" else tmp_path / "text"
    if formulation == "text":
        run_toy_suite(scenario, out, "naive", {"formulation": "text"})
    record = read_record(only_record(out))
    table = outcome_table(record.measures["outcomes"])
    assert table is not None and table.shape == (len(record.tasks) + 1, len(record.tasks))
    for i, row in enumerate(record.accuracy_matrix):
        for j, accuracy in enumerate(row):
            cell = table.cells[i][j]
            assert (cell is None) == (accuracy is None)  # an outcome beside every measured cell, none elsewhere
            if cell is not None:
                assert cell.accuracy == accuracy  # exactly: the cell is computed from these outcomes
    assert validate_results(out) == []


def tampered(path: Path, change: str) -> None:
    raw = json.loads(path.read_text())
    cell = decode(raw["measures"]["outcomes"][-1][0])
    gold, chosen = cell.gold.copy(), cell.chosen.copy()
    if change == "chosen":
        chosen[0] = gold[0] if chosen[0] != gold[0] else gold[0] + 1  # flips example 0 between right and wrong
    else:
        gold[0] = gold[0] + 7  # another gold class at one row only
    raw["measures"]["outcomes"][-1][0] = encode(gold, chosen)
    path.write_text(json.dumps(raw))


@pytest.mark.parametrize(("change", "message"), [("chosen", "but its outcomes give"), ("gold", "other gold classes than at row")])
def test_validate_catches_a_tampered_outcome(naive_run: Path, tmp_path: Path, change: str, message: str) -> None:
    path = tmp_path / only_record(naive_run).name
    path.write_bytes(only_record(naive_run).read_bytes())
    tampered(path, change)
    problems = validate_results(tmp_path)
    assert any(message in line for line in problems), problems


def test_validate_catches_a_changed_accuracy_cell_from_its_outcomes(naive_run: Path, tmp_path: Path) -> None:
    raw = json.loads(only_record(naive_run).read_text())
    raw["measures"]["accuracy"][0][0] = 0.0 if raw["measures"]["accuracy"][0][0] else 1.0  # the outcomes still say otherwise
    (tmp_path / "r.json").write_text(json.dumps(raw))
    assert any("is stored as" in line and "outcomes give" in line for line in validate_results(tmp_path))


def planted(rows: list[list[list[int] | None]], gold: list[int]) -> OutcomeTable:
    """A table from chosen classes per (row, column); every column has the same gold classes."""
    return OutcomeTable([[None if c is None else Outcomes(np.array(gold), np.array(c)) for c in row] for row in rows])


def test_forgetting_events_count_the_flips_of_already_trained_tasks() -> None:
    gold = [0, 1, 0, 1]
    table = planted([
        [[1, 1, 1, 1], [1, 1, 1, 1]],  # row 0: not counted (no task trained yet)
        [[0, 1, 0, 1], [1, 1, 1, 1]],  # after task 1: column 0 all right
        [[0, 0, 1, 1], [0, 1, 0, 1]],  # after task 2: column 0 loses examples 1 and 2, gains none
    ], gold)
    assert transition_flips(table) == [(2, 0, 4)]
    assert forgetting_events(table) == 0.5 and relearning_events(table) == 0.0
    assert flips_by_transition(table).tolist() == [[0.5, 0.0]]


def test_an_unchanging_model_has_no_forgetting_or_relearning_events(scenario: Path, tmp_path: Path) -> None:
    record = run_toy_suite(scenario, tmp_path / "frozen", "frozen").record
    assert record.metrics["forget_events"] == 0.0 and record.metrics["relearn_events"] == 0.0
