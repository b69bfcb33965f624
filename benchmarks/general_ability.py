"""General ability after fine-tuning, next to perplexity drift: does the one predict the other across strategies?

Reads records made with ``--measures ...,lm_eval`` and prints, per strategy (mean over
its runs): lm-eval's accuracy change on each benchmark (last row minus row 0), the
general-ability delta (TRACE) with a 95% interval, the relative change, and the
perplexity ratio; then the rank correlation (Spearman) of the perplexity ratio with
the general-ability delta over the strategies. The interval resamples lm-eval's test
examples (the same draw at row 0 and the last row, from ``lm_eval_outcomes``) and,
with several runs, the runs too (the two-stage bootstrap of
:mod:`benchmark.results.paired`).

    .venv/bin/python benchmarks/general_ability.py --results results-general
"""

from __future__ import annotations

import argparse
import sys
from collections import defaultdict
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import numpy as np  # noqa: E402
from scipy.stats import permutation_test, spearmanr  # noqa: E402

from benchmark.results.general_ability_metrics import general_ability_delta  # noqa: E402
from benchmark.results.outcomes import OutcomeTable, outcome_table  # noqa: E402
from benchmark.results.paired import BOOTSTRAP_SEED, REPLICATES, example_weights, resampled_matrices, two_stage_percentiles  # noqa: E402
from benchmark.results.records import RunRecord, read_record, record_files  # noqa: E402


def rank_correlation(x: np.ndarray, y: np.ndarray) -> tuple[float, float]:
    """Spearman's rho of ``x`` with ``y`` and its exact two-sided permutation p-value.

    ``spearmanr``'s own p-value is a t approximation, meaningless for a handful of
    strategies (it reports p = 0 for a perfect ranking of five points); with n <= 7 the
    permutation test enumerates every pairing, so the p-value is exact.
    """
    result = permutation_test((x,), lambda a: spearmanr(a, y).statistic, permutation_type="pairings",
                              alternative="two-sided", n_resamples=10_000, random_state=0)
    return float(result.statistic), float(result.pvalue)


def delta_interval(tables: list[OutcomeTable], rng: np.random.Generator) -> tuple[float, float]:
    """95% interval of the mean general-ability delta over runs: runs drawn with replacement, each with its own example draw."""
    per_run = []
    for table in tables:
        kept = OutcomeTable([table.cells[0], table.cells[-1]])  # row 0 and the last row: the two the delta reads
        matrices = resampled_matrices(kept, example_weights(kept, REPLICATES * len(tables), rng))
        per_run.append(np.array([general_ability_delta(m) for m in matrices]))
    return two_stage_percentiles(np.stack(per_run), REPLICATES, rng)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--results", required=True)
    args = parser.parse_args()
    by_strategy: dict[str, list[RunRecord]] = defaultdict(list)
    for path in record_files(args.results):
        record = read_record(path)
        if record.status == "finished" and record.metrics.get("general_delta") is not None:
            by_strategy[record.strategy].append(record)
    if not by_strategy:
        raise SystemExit(f"no finished record with lm_eval values in {args.results}")
    tasks = next(iter(by_strategy.values()))[0].config["lm_eval"]["tasks"]
    rng = np.random.default_rng(BOOTSTRAP_SEED)
    print("| strategy | runs | " + " | ".join(f"Δ {t} (points)" for t in tasks) + " | general Δ (points) [95% CI] | relative Δ (%) | PPL ratio |")
    print("|---|---|" + "---|" * (len(tasks) + 3))
    points = []
    for strategy, runs in sorted(by_strategy.items()):
        G = np.stack([np.array([r.measures["lm_eval"][0], r.measures["lm_eval"][-1]], dtype=float) for r in runs])  # (runs, 2, tasks)
        per_task = (G[:, 1] - G[:, 0]).mean(axis=0) * 100
        delta = float(np.mean([r.metrics["general_delta"] for r in runs]))
        relative = float(np.mean([r.metrics["general_relative"] for r in runs]))
        ppl = float(np.mean([r.metrics["ppl_ratio"] for r in runs]))
        low, high = delta_interval([outcome_table(r.measures["lm_eval_outcomes"]) for r in runs], rng)
        points.append((ppl, delta))
        print(f"| {strategy} | {len(runs)} | " + " | ".join(f"{v:+.1f}" for v in per_task)
              + f" | {delta * 100:+.1f} [{low * 100:+.1f}, {high * 100:+.1f}] | {relative * 100:+.1f} | {ppl:.3f} |")
    ppl, delta = np.array(points).T
    rho, p = rank_correlation(ppl, delta) if len(points) > 2 else (float("nan"), float("nan"))
    print(f"\nSpearman rank correlation of PPL ratio with general Δ over {len(points)} strategies: {rho:+.2f} "
          f"(exact permutation p = {p:.2g})")
    examples = sum(len(c.gold) for c in outcome_table(next(iter(by_strategy.values()))[0].measures["lm_eval_outcomes"]).cells[0])
    print(f"lm-eval examples per row: {examples} over {len(tasks)} tasks; the interval resamples them"
          + (" and the runs" if max(len(r) for r in by_strategy.values()) > 1 else " (one run per strategy: example noise only)"))


if __name__ == "__main__":
    main()
