"""Golden tests: each metric against a hand-computed 3-task matrix."""

from __future__ import annotations

import math

import numpy as np
import pytest

from benchmark.results.metrics import METRICS, as_matrix, compute_metrics, series_array

NAN = None
# Row 0 = pretrained model; row t = after task t; columns = tasks 1..3. Row 1 also holds
# the "next task" evaluation of task 2 (0.95: deliberately high, before task 2 was learned).
R = as_matrix([
    [0.50, 0.30, 0.20],
    [0.70, 0.95, NAN],
    [0.90, 0.80, 0.25],
    [0.60, 0.75, 0.85],
])

# Worked by hand:
#   ACC  = (0.60 + 0.75 + 0.85) / 3                      = 0.733333
#   LA   = (0.70 + 0.80 + 0.85) / 3                      = 0.783333
#   BWT  = ((0.60 - 0.70) + (0.75 - 0.80)) / 2           = -0.075
#   BWT_gem: same sum / 3                                 = -0.05
#   FWT  = ((0.95 - 0.30) + (0.25 - 0.20)) / 2           = 0.35
#   FWT_gem: same sum / 3                                 = 0.233333
#   F    = ((max(0.70, 0.90) - 0.60) + (0.80 - 0.75)) / 2 = 0.175   (row 1's 0.95 for task 2 is pre-learning)
#   first-minus-last = ((0.70 - 0.60) + (0.80 - 0.75)) / 2 = 0.075
EXPECTED = {
    "acc": 0.7333333333,
    "learning_acc": 0.7833333333,
    "bwt": -0.075,
    "bwt_gem": -0.05,
    "fwt": 0.35,
    "fwt_gem": 0.2333333333,
    "forgetting": 0.175,
    "forgetting_first_last": 0.075,
}


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_accuracy_metric_matches_hand_computation(name: str) -> None:
    assert METRICS.get(name).fn(R) == pytest.approx(EXPECTED[name], abs=1e-9)


def test_every_accuracy_metric_has_a_golden_value() -> None:
    accuracy_metrics = {e.name for e in METRICS if e.obj.input == "accuracy"}
    assert accuracy_metrics == set(EXPECTED)


def test_directions_are_declared() -> None:
    lower_better = {e.name for e in METRICS if not e.obj.higher_is_better}
    assert {"forgetting", "forgetting_first_last", "ppl_ratio", "ppl_ratio_max", "bits_per_byte"} <= lower_better
    assert METRICS.get("acc").higher_is_better and METRICS.get("bwt").higher_is_better


def test_perplexity_metrics() -> None:
    ppl = np.array([10.0, 12.0, 15.0, 11.0])
    assert METRICS.get("ppl_ratio").fn(ppl) == pytest.approx(1.1)
    assert METRICS.get("ppl_ratio_max").fn(ppl) == pytest.approx(1.5)
    assert METRICS.get("bits_per_byte").fn(np.array([1.2, 1.3])) == pytest.approx(1.3)


def test_no_forgetting_gives_zero() -> None:
    perfect = as_matrix([[0.5, 0.5], [1.0, 0.5], [1.0, 1.0]])
    assert METRICS.get("forgetting").fn(perfect) == 0.0
    assert METRICS.get("bwt").fn(perfect) == 0.0


def test_compute_metrics_stores_missing_inputs_as_none() -> None:
    values = compute_metrics({"accuracy": R})
    assert values["acc"] == pytest.approx(EXPECTED["acc"])
    assert values["ppl_ratio"] is None and values["bits_per_byte"] is None
    single = compute_metrics({"accuracy": [[0.5], [0.9]], "perplexity": [10.0, 12.0], "bits_per_byte": [1.0, 1.1]})
    assert single["bwt"] is None and single["forgetting"] is None  # undefined for one task
    assert single["acc"] == pytest.approx(0.9) and single["ppl_ratio"] == pytest.approx(1.2)
    assert all(v is None or math.isfinite(v) for v in single.values())


def test_a_stored_series_reads_as_a_matrix_or_a_vector_with_nan_for_gaps() -> None:
    matrix = compute_metrics({"accuracy": [[0.5, 0.5], [0.9, None], [0.7, 0.8]]})
    assert matrix["bwt"] == pytest.approx(0.7 - 0.9) and matrix["acc"] == pytest.approx(0.75)
    gaps = compute_metrics({"accuracy": [[0.5], [0.9]], "perplexity": [10.0, None, 12.0]})
    assert gaps["ppl_ratio"] == pytest.approx(1.2) and gaps["ppl_ratio_max"] == pytest.approx(1.2)
    assert compute_metrics({"accuracy": [[0.5], [0.9]], "perplexity": [None, None]})["ppl_ratio"] is None


def test_forgetting_first_last_is_exactly_minus_bwt() -> None:
    first_last, bwt = METRICS.get("forgetting_first_last").fn, METRICS.get("bwt").fn
    assert first_last(R) == -bwt(R)
    flat = as_matrix([[0.5, 0.5], [0.7, 0.5], [0.7, 0.6]])
    assert bwt(flat) == 0.0 and str(first_last(flat)) == "0.0"  # no negative zero in records


def test_probe_and_cka_metrics_match_hand_computation() -> None:
    # The probe matrix P read like R; the readout gap on R's cells after the last task.
    P = as_matrix([[0.60, 0.40, 0.30], [0.80, 0.90, NAN], [0.85, 0.85, 0.50], [0.80, 0.80, 0.90]])
    assert METRICS.get("probe_acc").fn(P) == pytest.approx((0.80 + 0.80 + 0.90) / 3)
    assert METRICS.get("probe_bwt").fn(P) == pytest.approx(((0.80 - 0.80) + (0.80 - 0.85)) / 2)
    assert METRICS.get("probe_fwt").fn(P) == pytest.approx(((0.90 - 0.40) + (0.50 - 0.30)) / 2)
    # (0.80 - 0.60) + (0.80 - 0.75) + (0.90 - 0.85), over 3
    assert METRICS.get("readout_gap").fn(P, R) == pytest.approx(0.30 / 3)
    # CKA rows: one value per layer (embeddings, block 1, final); row 0 is the pretrained model.
    cka = np.array([[1.0, 1.0, 1.0], [0.99, 0.9, 0.7], [0.98, 0.8, 0.5]])
    assert METRICS.get("cka_corpus_top").fn(cka) == 0.5
    assert METRICS.get("cka_corpus_mean").fn(cka) == pytest.approx((0.98 + 0.8 + 0.5) / 3)
    assert METRICS.get("cka_tasks_top").fn(cka) == 0.5  # a record from before the series was per task
    # Per task (rows, tasks, layers), a task not measured at a row is NaN: the mean over the tasks measured.
    per_task = np.array([[[1.0, 1.0], [1.0, 1.0]], [[0.9, 0.8], [np.nan, np.nan]], [[0.9, 0.6], [0.95, 0.4]]])
    assert METRICS.get("cka_tasks_top").fn(per_task) == pytest.approx(0.5)
    both = compute_metrics({"probe": P.tolist(), "accuracy": R.tolist(), "cka_corpus": cka.tolist()})
    assert both["readout_gap"] == pytest.approx(0.1) and both["cka_corpus_top"] == 0.5 and both["cka_tasks_top"] is None


def test_layer_probe_metrics_read_a_layer_by_task_table_per_row() -> None:
    # Rows 0 and T measured (a list over 3 layers per task), the rows between not.
    series = [[[0.5, 0.6, 0.7], [0.4, 0.5, 0.6]], [None, None], [[0.5, 0.6, 0.5], [0.4, 0.3, 0.2]]]
    cube = series_array(series)
    assert cube.shape == (3, 2, 3) and np.isnan(cube[1]).all()
    assert METRICS.get("layer_probe_top_change").fn(cube) == pytest.approx(((0.5 - 0.7) + (0.2 - 0.6)) / 2)
    # Mean absolute change per layer: 0, 0.1, 0.3 -> the final layer (depth 2 of 2) moved most.
    assert METRICS.get("layer_probe_most_changed_depth").fn(cube) == 1.0


def test_lm_recovery_metrics_read_the_last_row_s_curve_against_row_0() -> None:
    ppl = np.array([10.0, np.nan, 20.0])
    curve = np.array([[10.0, 9.0, 9.0, 8.0, 8.0, 8.0, 7.0], [np.nan] * 7, [20.0, 18.0, 15.0, 12.0, 10.4, 10.0, 9.0]])
    assert METRICS.get("lm_recovery_steps").fn(curve, ppl) == 8.0  # 10.4 <= 1.05 x 10 first at step 8
    assert METRICS.get("lm_recovery_fraction").fn(curve, ppl) == 1.0  # below PPL_0 (the corpus's domain): all of the increase, no more
    slow = curve.copy()
    slow[-1] = [20.0, 19.0, 18.0, 17.0, 16.0, 15.0, 14.0]
    assert np.isnan(METRICS.get("lm_recovery_steps").fn(slow, ppl))  # not within the budget
    assert METRICS.get("lm_recovery_fraction").fn(slow, ppl) == pytest.approx(0.6)


def test_relearning_savings_is_the_share_of_lost_accuracy_regained() -> None:
    relearned = as_matrix([[NAN, NAN, NAN], [NAN, NAN, NAN], [NAN, NAN, NAN], [0.80, 0.78, NAN]])
    # Task 1 was at 0.70 when learned (row 1) and ends at 0.60: lost 0.10, regained 0.80 - 0.60 = 0.20, a share of 2.0;
    # task 2: 0.80 when learned, ends at 0.75, lost 0.05, regained 0.03, a share of 0.6. Mean 1.3.
    assert METRICS.get("relearning_savings").fn(relearned, R) == pytest.approx((0.20 / 0.10 + 0.03 / 0.05) / 2)
    unchanged = as_matrix([[NAN] * 3] * 3 + [[0.60, 0.75, NAN]])
    assert METRICS.get("relearning_savings").fn(unchanged, R) == pytest.approx(0.0)
