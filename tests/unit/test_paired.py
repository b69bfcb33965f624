"""Paired statistics over test examples: the bootstrap gives the analytic answer on planted outcomes, McNemar its exact p."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from scipy.stats import binom

from benchmark.cli import main
from benchmark.results.metrics import average_accuracy, backward_transfer, forgetting
from benchmark.results.outcomes import OutcomeTable, Outcomes
from benchmark.results.paired import MatchedRun, mcnemar, paired_bootstrap
from benchmark.results.records import read_record
from leaderboard.compare import RESAMPLED_EXAMPLES, paired_differences
from leaderboard.mcnemar import task_tests
from leaderboard.figures import write_figures
from tests.conftest import run_toy_suite, write_toy_scenario


def cell(correct: np.ndarray) -> Outcomes:
    """Outcomes of a two-class task: gold 1 everywhere, chosen 1 where ``correct``."""
    return Outcomes(gold=np.ones(len(correct), dtype=np.int64), chosen=np.asarray(correct, dtype=np.int64))


def final_only(correct: np.ndarray) -> OutcomeTable:
    """A one-task run: row 0 and the final row both with ``correct``."""
    return OutcomeTable([[cell(correct)], [cell(correct)]])


def two_task_table(rng: np.random.Generator, n: int = 60) -> OutcomeTable:
    """A 2-task run with random outcomes in every cell."""
    return OutcomeTable([[cell(rng.random(n) < 0.5) for _ in range(2)] for _ in range(3)])


@pytest.mark.parametrize("metric", [average_accuracy, backward_transfer, forgetting])
def test_identical_outcomes_give_the_interval_zero_zero(metric) -> None:  # noqa: ANN001
    table = two_task_table(np.random.default_rng(1))
    interval = paired_bootstrap([MatchedRun(table, table)], metric)
    assert (interval.mean, interval.low, interval.high) == (0.0, 0.0, 0.0)


def test_right_on_every_example_the_baseline_gets_wrong_is_a_difference_of_exactly_one() -> None:
    n = 200
    interval = paired_bootstrap([MatchedRun(final_only(np.ones(n, bool)), final_only(np.zeros(n, bool)))], average_accuracy)
    assert (interval.mean, interval.low, interval.high) == (1.0, 1.0, 1.0)


@pytest.mark.parametrize("complement", [False, True])
def test_the_interval_is_the_binomial_quantile_of_the_baseline(complement: bool) -> None:
    # The baseline is right on half of n examples; the strategy on all of them (difference 1 - b) or
    # exactly on the others (the complement: 1 - 2b). Resampling examples makes b a Binomial(n, 1/2) / n,
    # so the 95% interval is known in closed form (up to one example's step, from 2,000 replicates).
    n = 400
    baseline = np.arange(n) % 2 == 0
    strategy = ~baseline if complement else np.ones(n, bool)
    interval = paired_bootstrap([MatchedRun(final_only(strategy), final_only(baseline))], average_accuracy)
    b_low, b_high = binom.ppf([0.025, 0.975], n, 0.5) / n
    scale = 2 if complement else 1
    expected = (1 - scale * b_high, 1 - scale * b_low)
    assert interval.mean == pytest.approx(1 - scale * 0.5)
    assert interval.low == pytest.approx(expected[0], abs=scale * 1.01 / n)
    assert interval.high == pytest.approx(expected[1], abs=scale * 1.01 / n)


def test_the_bootstrap_is_deterministic_under_its_seed() -> None:
    rng = np.random.default_rng(5)
    runs = [MatchedRun(two_task_table(rng), two_task_table(rng)) for _ in range(2)]
    first, again = paired_bootstrap(runs, backward_transfer), paired_bootstrap(runs, backward_transfer)
    other = paired_bootstrap(runs, backward_transfer, seed=1)
    assert first == again and first != other


def test_several_runs_are_resampled_too() -> None:
    # Run A: the strategy is right everywhere, the baseline nowhere (difference 1); run B: identical (difference 0).
    # Every replicate's example resample leaves those differences as they are, so only drawing runs moves the mean:
    # two draws with replacement give 0, 1/2 or 1, and the 95% interval is [0, 1].
    n = 50
    a = MatchedRun(final_only(np.ones(n, bool)), final_only(np.zeros(n, bool)))
    b = MatchedRun(final_only(np.ones(n, bool)), final_only(np.ones(n, bool)))
    interval = paired_bootstrap([a, b], average_accuracy)
    assert (interval.mean, interval.low, interval.high) == (0.5, 0.0, 1.0)


def test_mcnemar_pools_discordant_examples_and_gives_the_exact_p_value() -> None:
    baseline = np.array([True] * 10 + [False] * 2 + [True] * 5)
    strategy = np.array([False] * 10 + [True] * 2 + [True] * 5)
    half = len(baseline) // 2
    pooled = [(cell(strategy[:half]), cell(baseline[:half])), (cell(strategy[half:]), cell(baseline[half:])), (None, cell(baseline))]
    test = mcnemar(pooled)
    assert (test.only_baseline, test.only_strategy) == (10, 2)
    assert test.p_value == pytest.approx(2 * (1 + 12 + 66) / 2**12)  # two-sided exact binomial, 2 of 12 discordant
    assert mcnemar([(None, None)]) is None
    assert mcnemar([(cell(baseline), cell(baseline))]).p_value == 1.0


@pytest.fixture(scope="module")
def two_strategies(tmp_path_factory: pytest.TempPathFactory) -> Path:
    scenario = write_toy_scenario(tmp_path_factory.mktemp("toy"))
    out = tmp_path_factory.mktemp("results")
    for strategy in ("naive", "l2sp"):
        run_toy_suite(scenario, out, strategy)
    return out


def test_real_runs_are_compared_over_their_test_examples(two_strategies: Path) -> None:
    records = [read_record(p) for p in sorted(two_strategies.glob("*.json"))]
    found = {d.column.key: d for d in paired_differences(records, "naive")}
    assert found["acc"].resampled == RESAMPLED_EXAMPLES and found["acc"].n == 1
    assert found["acc"].low <= found["acc"].mean <= found["acc"].high
    l2sp, naive = sorted(records, key=lambda r: r.strategy)
    assert found["acc"].mean == pytest.approx(l2sp.metrics["acc"] - naive.metrics["acc"])
    assert found["ppl_ratio"].resampled == "runs" and np.isnan(found["ppl_ratio"].low)  # one pair: no interval over runs
    tests = task_tests(records, "naive")
    assert sorted(t.task for t in tests) == sorted(l2sp.tasks) and all(0 <= t.test.p_value <= 1 for t in tests)


def test_leaderboard_compare_flag_prints_both_tables(two_strategies: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["leaderboard", "--results", str(two_strategies), "--compare", "naive"]) == 0
    out = capsys.readouterr().out
    assert "forget events" in out  # example-level forgetting is a leaderboard column
    assert "strategy - naive" in out and "from the test examples alone" in out
    assert "McNemar p" in out and out.count("| l2sp ") >= 1 + 3  # the leaderboard row (once per table) and one per task


def test_compare_flag_with_another_format_is_one_sentence(two_strategies: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["leaderboard", "--results", str(two_strategies), "--compare", "naive", "--format", "csv"]) == 2
    assert "--compare adds markdown tables" in capsys.readouterr().err


def test_the_example_flips_figure_is_drawn_from_outcomes(two_strategies: Path, tmp_path: Path) -> None:
    records = [read_record(p) for p in sorted(two_strategies.glob("*.json"))]
    written = {p.name for p in write_figures(records, tmp_path, heatmaps=False)}
    assert {"example_flips_toy_o1.png", "example_flips_toy_o1.svg"} <= written
