"""Paired differences to a baseline strategy: is a strategy's advantage larger than the noise?

Two strategies run on the same (scenario, order, seed) see the same splits, heads and
data order, and are scored on the same test examples, so their difference on that run
pair is the cleanest comparison there is. For every strategy, metric and scenario this
takes the mean of those paired differences over all matched runs and a 95% interval:

- where every matched pair stores per-example outcomes on the same examples (records
  of schema 3), the accuracy metrics (ACC, BWT, forgetting, LA) get a paired bootstrap
  over test examples, and over matched runs where there are several
  (:func:`benchmark.results.paired.paired_bootstrap`). With one run per row the interval
  covers example noise alone, and the table says so;
- otherwise (perplexity, or records without outcomes) a percentile bootstrap of the
  mean over matched runs (the same resampling as the leaderboard's ``--ci``); with one
  pair there is no interval, and with three seeds it spans the smallest to the largest
  difference.

An interval that excludes 0 is marked: only then does the table back a claim that one
strategy forgets or drifts less than the other. :mod:`leaderboard.mcnemar` adds the
per-task McNemar tests.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np
from tabulate import tabulate

from benchmark.core.errors import UserError
from benchmark.results.metrics import METRICS
from benchmark.results.generations import run_outcomes
from benchmark.results.outcomes import OutcomeTable
from benchmark.results.paired import MatchedRun, paired_bootstrap, same_examples
from benchmark.results.records import RunRecord
from leaderboard.aggregate import BOOTSTRAP_SEED, COLUMNS, Column, bootstrap_interval, record_value, scenario_labels
from leaderboard.formats import markdown_escape, number

COMPARED_KEYS = ("acc", "bwt", "forgetting", "learning_acc", "ppl_ratio")
RESAMPLED_RUNS, RESAMPLED_EXAMPLES, RESAMPLED_BOTH = "runs", "examples", "examples and runs"


@dataclass(frozen=True)
class PairedDifference:
    """Mean of ``strategy - baseline`` over matched runs, with its 95% bootstrap interval.

    Attributes:
        resampled: What the interval resamples: ``runs`` (matched pairs only), ``examples``
            (one matched run: test examples only) or ``examples and runs`` (two-stage).
    """

    scenario: str
    strategy: str
    column: Column
    n: int
    mean: float
    low: float
    high: float
    resampled: str = RESAMPLED_RUNS

    @property
    def excludes_zero(self) -> bool:
        """True when the interval lies entirely above or entirely below 0."""
        has_interval = self.n > 1 or self.resampled != RESAMPLED_RUNS
        return has_interval and (self.low > 0 or self.high < 0)


@dataclass
class Pairing:
    """Matched runs per (scenario label, strategy), and one line per run that has a baseline partner but could not be paired."""

    pairs: dict[tuple[str, str], list[tuple[RunRecord, RunRecord]]]
    unpaired: list[str]


def _why_not_paired(record: RunRecord, partner: RunRecord) -> str | None:
    """Why two runs of the same (scenario, order, seed) are no pair, or None when they are one.

    A pair must have trained and been evaluated on the same examples: the data hashes cover
    every split (sizes and seeds included), and the stored outcomes the evaluated examples.
    """
    if record.data_hashes != partner.data_hashes:
        differ = sorted(t for t in set(record.data_hashes) | set(partner.data_hashes) if record.data_hashes.get(t) != partner.data_hashes.get(t))
        return f"its data differ from the baseline's (task(s) {', '.join(differ)}: other splits or sizes)"
    try:
        ours, theirs = run_outcomes(record.measures), run_outcomes(partner.measures)
    except ValueError as exc:  # the leaderboard only reads validated records; a caller with others gets the reason
        return f"its outcomes do not decode ({exc})"
    if ours is not None and theirs is not None and not same_examples(ours, theirs):
        return "it was evaluated on other test examples than the baseline"
    return None


def pairing(records: list[RunRecord], baseline: str) -> Pairing:
    """(scenario label, strategy) -> its finished runs, each with the baseline's run of the same order and seed and the same data.

    Raises:
        UserError: When no finished run of ``baseline`` is among the records.
    """
    finished = [(r, label) for r, label in zip(records, scenario_labels(records)) if r.status == "finished"]
    base = {(label, r.order, r.seed): r for r, label in finished if r.strategy == baseline}
    if not base:
        names = sorted({r.strategy for r, _ in finished})
        listed = f"use one of {names}" if names else "the results hold no finished run; run one first"
        raise UserError(f"no finished run of --baseline {baseline!r} among the records; {listed}")
    result = Pairing({}, [])
    for record, label in sorted(finished, key=lambda item: (item[1], item[0].strategy, item[0].order, item[0].seed)):
        partner = base.get((label, record.order, record.seed))
        if record.strategy == baseline or partner is None:
            continue
        reason = _why_not_paired(record, partner)
        if reason is None:
            result.pairs.setdefault((label, record.strategy), []).append((record, partner))
        else:
            result.unpaired.append(f"{record.strategy} on {label} (order {record.order}, seed {record.seed}): {reason}")
    return result


def matched_pairs(records: list[RunRecord], baseline: str) -> dict[tuple[str, str], list[tuple[RunRecord, RunRecord]]]:
    """The pairs of :func:`pairing` (runs that could not be paired left out)."""
    return pairing(records, baseline).pairs


def matched_outcomes(pairs: list[tuple[RunRecord, RunRecord]]) -> list[MatchedRun] | None:
    """The pairs' per-example outcomes, or None unless every pair has them on the same test examples."""
    runs = []
    for ours, theirs in pairs:
        try:
            a, b = run_outcomes(ours.measures), run_outcomes(theirs.measures)
        except ValueError:  # a damaged cell: the leaderboard leaves such records out before pairing
            return None
        if a is None or b is None or not same_examples(a, b):
            return None
        runs.append(MatchedRun(strategy=a, baseline=b))
    return runs


def comparison_notes(records: list[RunRecord], baseline: str) -> list[str]:
    """One line per run left unpaired, and per row whose intervals fell back to runs because some pairs store no outcomes."""
    found = pairing(records, baseline)
    notes = [markdown_escape(f"Not paired with {baseline}: {line}.") for line in found.unpaired]
    for (scenario, strategy), pairs in sorted(found.pairs.items()):
        without = sum(run_outcomes(a.measures) is None or run_outcomes(b.measures) is None for a, b in pairs)
        if 0 < without:
            notes.append(markdown_escape(
                f"{strategy} on {scenario}: {without} of {len(pairs)} pair(s) store no per-example outcomes (records older than "
                "schema 3), so its accuracy intervals resample runs only; rerun those runs for example-level intervals."
            ))
    return notes


def _example_difference(scenario: str, strategy: str, column: Column, runs: list[MatchedRun]) -> PairedDifference:
    metric = METRICS.get(column.path.partition(".")[2]).fn
    interval = paired_bootstrap(runs, metric)
    resampled = RESAMPLED_EXAMPLES if len(runs) == 1 else RESAMPLED_BOTH
    return PairedDifference(scenario, strategy, column, len(runs), interval.mean, interval.low, interval.high, resampled)


def _run_difference(scenario: str, strategy: str, column: Column, pairs: list[tuple[RunRecord, RunRecord]], rng: np.random.Generator) -> PairedDifference | None:
    diffs = np.array([record_value(a, column.path) - record_value(b, column.path) for a, b in pairs], dtype=float)
    diffs = diffs[~np.isnan(diffs)]
    if not len(diffs):
        return None
    low, high = bootstrap_interval(diffs, rng)
    return PairedDifference(scenario, strategy, column, len(diffs), float(diffs.mean()), low, high)


def _reads_accuracy(column: Column) -> bool:
    """Whether the column is a registered metric of the accuracy matrix (what outcomes can resample)."""
    section, _, name = column.path.partition(".")
    return section == "metrics" and name in METRICS and METRICS.get(name).input == "accuracy"


def paired_differences(records: list[RunRecord], baseline: str) -> list[PairedDifference]:
    """Every (scenario, strategy, compared column) difference to ``baseline``, matched by order and seed.

    Raises:
        UserError: When no finished run of ``baseline`` is among the records.
    """
    rng = np.random.default_rng(BOOTSTRAP_SEED)
    columns = [c for c in COLUMNS if c.key in COMPARED_KEYS]
    out = []
    for (scenario, strategy), pairs in matched_pairs(records, baseline).items():
        runs = matched_outcomes(pairs)
        for column in columns:
            has_values = any(not np.isnan(record_value(a, column.path) - record_value(b, column.path)) for a, b in pairs)
            if runs is not None and has_values and _reads_accuracy(column):
                out.append(_example_difference(scenario, strategy, column, runs))
            elif (difference := _run_difference(scenario, strategy, column, pairs, rng)) is not None:
                out.append(difference)
    return out


def _cell(d: PairedDifference) -> str:
    text = f"{'+' if d.mean >= 0 else ''}{number(d.mean, d.column.kind)}"
    if d.n > 1 or d.resampled != RESAMPLED_RUNS:
        text += f" [{number(d.low, d.column.kind)}, {number(d.high, d.column.kind)}]" + (" *" if d.excludes_zero else "")
    return text


def _resampled_note(differences: list[PairedDifference]) -> Iterator[str]:
    kinds = {d.resampled for d in differences}
    if RESAMPLED_EXAMPLES in kinds:
        yield ("Intervals of the accuracy columns in rows with one pair come from the test examples alone (a paired "
               "bootstrap of one run): they say how sure the difference is on these test sets, not across seeds.")
    if RESAMPLED_BOTH in kinds:
        yield "Intervals of the accuracy columns resample matched runs and, within each, test examples (a two-stage paired bootstrap)."
    if RESAMPLED_RUNS in kinds:
        yield "Intervals of the other columns resample the matched runs only (none with one pair)."


def compare_markdown(differences: list[PairedDifference], baseline: str) -> str:
    """One row per (scenario, strategy): ``mean [low, high]`` per column, ``*`` where the interval excludes 0,
    followed by a line saying what the intervals resample."""
    if not differences:
        return "(no run of another strategy shares an order, a seed and the data with the baseline: nothing to pair)"
    columns = [c for c in COLUMNS if c.key in COMPARED_KEYS and any(d.column == c for d in differences)]
    rows: dict[tuple[str, str], dict[str, str]] = {}
    for d in differences:
        rows.setdefault((d.scenario, d.strategy), {"n": str(d.n)})[d.column.key] = _cell(d)
    unit = {"percent": " (points)", "ratio": ""}
    headers = ["scenario", f"strategy - {markdown_escape(baseline)}", "pairs"] + [f"Δ {c.label}{unit.get(c.kind, '')}" for c in columns]
    table = [[markdown_escape(s), markdown_escape(k), v["n"]] + [v.get(c.key, "-") for c in columns] for (s, k), v in sorted(rows.items())]
    notes = " ".join(["`*`: the 95% interval excludes 0.", *_resampled_note(differences)])
    return tabulate(table, headers=headers, tablefmt="github", disable_numparse=True) + "\n\n" + notes


def outcome_tables(pairs: list[tuple[RunRecord, RunRecord]]) -> list[tuple[RunRecord, OutcomeTable, OutcomeTable]]:
    """Per matched pair with outcomes on the same examples: (the strategy's record, its table, the baseline's table)."""
    runs = matched_outcomes(pairs)
    return [] if runs is None else [(ours, run.strategy, run.baseline) for (ours, _), run in zip(pairs, runs)]
