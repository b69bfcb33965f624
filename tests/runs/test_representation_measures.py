"""Why a model forgot: linear CKA and linear probes, their properties and their mechanisms in whole runs."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import numpy as np
import pytest
import torch

from benchmark.cli import main
from benchmark.core.errors import UserError
from benchmark.engine.probing import cross_fitted_predictions, probe_accuracy
from benchmark.engine.representations import linear_cka
from benchmark.engine.run_steps import RunOutcome
from benchmark.results.outcomes import encode, outcome_table, scored
from leaderboard.validate import validate_results
from benchmark.results.metrics import compute_metrics
from tests.conftest import run_toy_suite, write_toy_scenario

pytestmark = pytest.mark.slow  # runs whole suites, several per test: not in `make test-fast`

MEASURES = ["accuracy", "perplexity", "probe", "cka", "layer_probe", "lm_recovery", "task_recovery"]


def test_cka_of_a_representation_with_itself_is_one() -> None:
    X = torch.randn(200, 16, generator=torch.Generator().manual_seed(0))
    assert linear_cka(X, X) == 1.0
    assert linear_cka(X, X.clone() + 0.0) == 1.0


def test_cka_is_invariant_to_an_orthogonal_rotation_and_isotropic_scaling() -> None:
    generator = torch.Generator().manual_seed(1)
    X = torch.randn(300, 24, generator=generator, dtype=torch.float64)
    Q, _ = torch.linalg.qr(torch.randn(24, 24, generator=generator, dtype=torch.float64))
    assert linear_cka(X, X @ Q) == pytest.approx(1.0, abs=1e-12)
    assert linear_cka(X, 7.5 * X) == pytest.approx(1.0, abs=1e-12)
    assert linear_cka(X, 0.3 * (X @ Q) + 4.0) == pytest.approx(1.0, abs=1e-12)  # a shift is centred away
    Y = torch.randn(300, 24, generator=generator, dtype=torch.float64)
    assert linear_cka(X, Y) == pytest.approx(linear_cka(X @ Q, 2 * Y), abs=1e-12)


def test_cka_of_independent_random_features_goes_to_zero_as_n_grows() -> None:
    generator = torch.Generator().manual_seed(2)
    small = linear_cka(torch.randn(50, 8, generator=generator), torch.randn(50, 8, generator=generator))
    large = linear_cka(torch.randn(20000, 8, generator=generator), torch.randn(20000, 8, generator=generator))
    assert large < 0.01 < small  # the finite-n bias of linear CKA shrinks like p/n


def cross_fitted_probe_accuracy(features: np.ndarray, labels: np.ndarray, *, seed: int) -> float:
    """The probe measures' accuracy: each example predicted by the cross-fitted probe that held it out."""
    return scored(labels, cross_fitted_predictions(features, labels, seed=seed))[0]


def test_the_probe_reads_planted_linearly_separable_features_perfectly_and_shuffled_labels_at_chance() -> None:
    rng = np.random.default_rng(0)
    centres = rng.normal(size=(3, 20)) * 6
    labels = rng.integers(0, 3, size=600)
    features = centres[labels] + rng.normal(size=(600, 20))
    assert probe_accuracy(features[:400], labels[:400], features[400:], labels[400:], seed=0) == 1.0
    shuffled = rng.permutation(labels[:400])
    chance = probe_accuracy(features[:400], shuffled, features[400:], labels[400:], seed=0)
    assert abs(chance - 1 / 3) < 0.1
    # Deterministic: the same features give the same probe.
    assert probe_accuracy(features[:400], shuffled, features[400:], labels[400:], seed=0) == chance
    # Cross-fitted over one split (what the measure runs): every example is scored by a probe that never saw it.
    assert cross_fitted_probe_accuracy(features, labels, seed=0) == 1.0
    cross_chance = cross_fitted_probe_accuracy(features, rng.permutation(labels), seed=0)
    assert abs(cross_chance - 1 / 3) < 0.08
    assert cross_fitted_probe_accuracy(features, rng.permutation(labels), seed=3) != 1.0


@pytest.fixture(scope="module")
def scenario(tmp_path_factory: pytest.TempPathFactory) -> Path:
    # Two tasks: the tiny model's 3 layer entries then differ from the task count, as in real runs (validate tells them apart).
    return write_toy_scenario(tmp_path_factory.mktemp("toy"), n_tasks=2, n_per_class=40, train_size=48, test_size=24)


def run(scenario: Path, out: Path, strategy: str, **overrides: object) -> RunOutcome:
    return run_toy_suite(scenario, out, strategy, {"measures": MEASURES}, overrides)


def test_frozen_gives_identical_probe_rows_and_cka_exactly_one_at_every_layer(scenario: Path, tmp_path: Path) -> None:
    record = run(scenario, tmp_path / "out", "frozen").record
    P = record.measures["probe"]
    assert all(row == P[0] for row in P[1:]) and all(v is not None for v in P[0])
    layers = len(record.measures["cka_corpus"][0])
    assert layers >= 3  # embeddings, the blocks, the final layer
    rows = len(record.tasks) + 1
    assert record.measures["cka_corpus"] == [[1.0] * layers] * rows
    assert record.measures["cka_tasks"] == [[[1.0] * layers] * len(record.tasks)] * rows  # per task, every layer
    by_layer = record.measures["layer_probe"]
    assert by_layer[-1] == by_layer[0] and all(len(cell) == layers for cell in by_layer[0])
    assert all(cell is None for row in by_layer[1:-1] for cell in row)  # taken at row 0 and after the last task only
    assert record.metrics["layer_probe_top_change"] == 0.0


@pytest.fixture(scope="module")
def naive(scenario: Path, tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, RunOutcome]:
    out = tmp_path_factory.mktemp("naive")
    return out, run(scenario, out, "naive")


def test_naive_moves_the_representation_and_its_record_recomputes_every_new_metric(naive: tuple[Path, RunOutcome]) -> None:
    out, outcome = naive
    record = outcome.record
    layers = len(record.measures["cka_corpus"][0])
    assert record.measures["cka_tasks"][0] == [[1.0] * layers] * len(record.tasks)
    assert record.measures["cka_tasks"][-1][0][-1] < 1.0 and record.measures["cka_corpus"][-1][-1] < 1.0
    # Training a task makes its own features more linearly readable than the pretrained ones were.
    P = np.array(record.measures["probe"], dtype=float)
    assert P[1, 0] > P[0, 0]
    metrics = compute_metrics(record.measures)
    # The layer probes' final layer is the probe matrix's row 0 and last row (same features, same C, same folds).
    by_layer = record.measures["layer_probe"]
    assert [cell[-1] for cell in by_layer[0]] == record.measures["probe"][0]
    assert [cell[-1] for cell in by_layer[-1]] == record.measures["probe"][-1]
    for name in ("probe_acc", "probe_bwt", "probe_fwt", "readout_gap", "cka_corpus_top", "cka_corpus_mean", "cka_tasks_top",
                 "layer_probe_top_change", "layer_probe_most_changed_depth"):
        assert metrics[name] is not None and metrics[name] == record.metrics[name], name
    R = np.array(record.accuracy_matrix, dtype=float)
    assert metrics["readout_gap"] == pytest.approx(float(np.mean(P[-1] - R[-1])))
    assert main(["leaderboard", "validate", "--results", str(out)]) == 0
    # Each probe cell is reproduced by its per-example outcomes (the gold classes are the task's test labels).
    probe_outcomes = outcome_table(record.measures["probe_outcomes"])
    assert probe_outcomes.accuracy_matrix() == record.measures["probe"]
    assert np.array_equal(probe_outcomes.cells[0][0].gold, outcome_table(record.measures["outcomes"]).cells[0][0].gold)
    # Every layer's probe cell is reproduced by that layer's outcomes; the final layer's are the probe's own.
    layered = record.measures["layer_probe_outcomes"]
    for row in (0, len(by_layer) - 1):
        for j, cell in enumerate(layered[row]):
            assert [outcome_table([[entry]]).accuracy_matrix()[0][0] for entry in cell] == by_layer[row][j]
            assert cell[-1] == record.measures["probe_outcomes"][row][j]
    assert all(cell is None for row in layered[1:-1] for cell in (row or []))  # row 0 and the last row only
    # validate recomputes the new metrics from the stored raw values: a tampered probe cell is caught.
    path = next(out.glob("*.json"))
    data = json.loads(path.read_text())
    data["measures"]["probe"][-1][0] = 1.0 - data["measures"]["probe"][-1][0]
    tampered = out.parent / "tampered"
    tampered.mkdir()
    (tampered / path.name).write_text(json.dumps(data))
    assert main(["leaderboard", "validate", "--results", str(tampered)]) == 1
    # ... and so is a layer probe's outcome that no longer gives its stored accuracy (layer 1, task 0, last row).
    data = json.loads(path.read_text())
    outcomes = outcome_table([[data["measures"]["layer_probe_outcomes"][-1][0][1]]]).cells[0][0]
    flipped = np.where(outcomes.chosen == outcomes.gold, outcomes.gold + 1, outcomes.gold)
    data["measures"]["layer_probe_outcomes"][-1][0][1] = encode(outcomes.gold, flipped)
    layer_tampered = out.parent / "layer_tampered"
    layer_tampered.mkdir()
    (layer_tampered / path.name).write_text(json.dumps(data))
    problems = validate_results(layer_tampered)
    assert problems and all("layer_probe (layer 1)" in line for line in problems), problems


@pytest.fixture(scope="module")
def plain(scenario: Path, tmp_path_factory: pytest.TempPathFactory) -> RunOutcome:
    return run(scenario, tmp_path_factory.mktemp("plain"), "naive", measures=["accuracy", "perplexity"])


def test_accuracy_read_from_the_shared_feature_pass_equals_the_plain_pass(naive: tuple[Path, RunOutcome], plain: RunOutcome) -> None:
    assert naive[1].record.accuracy_matrix == plain.record.accuracy_matrix


def test_the_figures_of_why_it_forgot_are_drawn_from_the_records(naive: tuple[Path, RunOutcome], tmp_path: Path) -> None:
    from leaderboard.figures import write_figures

    written = {path.name for path in write_figures([naive[1].record], tmp_path / "figs", heatmaps=False)}
    assert {"layer_probe_toy_o1.png", "layer_probe_toy_o1.svg", "cka_toy_o1.png", "cka_toy_o1.svg"} <= written
    # The recovery figure needs the last row's curve and a forgetting value; the toy run has both.
    record = naive[1].record
    assert record.measures["lm_recovery"][-1] is not None and record.metrics["forgetting"] is not None
    assert {"recovery_vs_forgetting_toy.png", "recovery_vs_forgetting_toy.svg"} <= written
    # A run without the measure draws none.
    without = dataclasses.replace(record, measures={k: v for k, v in record.measures.items() if k != "lm_recovery"})
    assert not [p for p in write_figures([without], tmp_path / "none", heatmaps=False) if "recovery" in p.name]


def test_lora_with_heads_leaves_the_language_model_path_untouched_cka_one(scenario: Path, tmp_path: Path) -> None:
    record = run(scenario, tmp_path / "out", "lora").record
    assert all(value == 1.0 for row in record.measures["cka_corpus"] for value in row)
    assert record.measures["cka_tasks"][-1][0][-1] < 1.0  # the tasks' own path does move


def test_a_measure_that_cannot_read_a_seq2seq_model_is_refused_before_any_work(scenario: Path, tmp_path: Path) -> None:
    with pytest.raises(UserError, match="measure 'probe' cannot measure a seq2seq model"):
        run(scenario, tmp_path / "out", "naive", model="tiny-t5", formulation="text", measures=["accuracy", "probe"])
    assert not (tmp_path / "out").exists() or not any((tmp_path / "out").glob("*.json"))


def test_lm_recovery_starts_at_the_recorded_perplexity_and_never_touches_the_run_s_model(naive: tuple[Path, RunOutcome], plain: RunOutcome) -> None:
    measured = naive[1]
    record = measured.record
    curve0, curve = record.measures["lm_recovery"][0], record.measures["lm_recovery"][-1]
    assert len(curve) == 7 and all(row is None for row in record.measures["lm_recovery"][1:-1])
    # Step 0 is the model as recorded: exactly the perplexity the perplexity measure stored.
    assert curve[0] == record.perplexity[-1] and curve0[0] == record.perplexity[0]
    assert curve[-1] < curve[0]  # training on held-out corpus text brings the perplexity down
    # Recovery trains a copy: the run's final weights and every other number are those of a run without it.
    assert all(torch.equal(t, plain.model.state_dict()[k]) for k, t in measured.model.state_dict().items())
    assert record.accuracy_matrix == plain.record.accuracy_matrix and record.perplexity == plain.record.perplexity
    increase = curve[0] - record.perplexity[0]
    # (The toy's tasks share the corpus's filler words, so its perplexity may fall: then nothing is there to recover.)
    expected = (curve[0] - curve[-1]) / increase if increase > 0 else None
    assert record.metrics["lm_recovery_fraction"] == (pytest.approx(expected) if expected is not None else None)


def test_task_recovery_relearns_earlier_tasks_on_a_copy_and_frozen_text_has_nothing_to_relearn(naive: tuple[Path, RunOutcome], scenario: Path, tmp_path: Path) -> None:
    record = naive[1].record
    relearned, R = record.measures["task_recovery"], record.accuracy_matrix
    T = len(record.tasks)
    assert all(cell is None for row in relearned[:-1] for cell in row)  # the last row only
    assert all(relearned[-1][j] is not None for j in range(T - 1)) and relearned[-1][T - 1] is None  # earlier tasks only
    lost = [j for j in range(T - 1) if R[j + 1][j] > R[T][j]]
    expected = np.mean([(relearned[-1][j] - R[T][j]) / (R[j + 1][j] - R[T][j]) for j in lost]) if lost else None
    assert record.metrics["relearning_savings"] == (pytest.approx(expected) if lost else None)
    # In the text formulation frozen has no trainable weight: relearning leaves every earlier task's accuracy as it was.
    frozen = run(scenario, tmp_path / "frozen", "frozen", formulation="text", measures=["accuracy", "perplexity", "task_recovery"]).record
    assert frozen.measures["task_recovery"][-1][: T - 1] == frozen.accuracy_matrix[-1][: T - 1]
    # ... example by example: the relearned copy chose what the final model chose.
    assert frozen.measures["task_recovery_outcomes"][-1][: T - 1] == frozen.measures["outcomes"][-1][: T - 1]
    assert outcome_table(record.measures["task_recovery_outcomes"]).accuracy_matrix()[-1][: T - 1] == relearned[-1][: T - 1]
