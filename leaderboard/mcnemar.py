"""Per-task McNemar tests against a baseline: which tasks' final accuracies really differ?

For each (scenario, strategy) and task, the final-row outcomes of every matched run
(same order and seed as the baseline's run) are pooled by task name, so runs of
different task orders pool the same task. The discordant examples (right for one
strategy, wrong for the other) are tested with McNemar's exact test
(:func:`benchmark.results.paired.mcnemar`). The p-values are per test, not corrected
for the number of tasks and strategies compared.
"""

from __future__ import annotations

from dataclasses import dataclass

from tabulate import tabulate

from benchmark.results.outcomes import Outcomes
from benchmark.results.paired import McNemar, mcnemar
from benchmark.results.records import RunRecord
from leaderboard.compare import matched_pairs, outcome_tables
from leaderboard.formats import markdown_escape

SIGNIFICANT = 0.05


@dataclass(frozen=True)
class TaskTest:
    """McNemar's test of one task's final outcomes, strategy against baseline, over ``runs`` matched runs."""

    scenario: str
    strategy: str
    task: str
    runs: int
    test: McNemar


def task_tests(records: list[RunRecord], baseline: str) -> list[TaskTest]:
    """A test per (scenario, strategy, task) whose matched runs store per-example outcomes.

    Raises:
        UserError: When no finished run of ``baseline`` is among the records.
    """
    out = []
    for (scenario, strategy), pairs in matched_pairs(records, baseline).items():
        by_task: dict[str, list[tuple[Outcomes | None, Outcomes | None]]] = {}
        for record, ours, theirs in outcome_tables(pairs):
            for j, task in enumerate(record.tasks):
                by_task.setdefault(task, []).append((ours.cells[-1][j], theirs.cells[-1][j]))
        for task, cells in sorted(by_task.items()):
            if (test := mcnemar(cells)) is not None:
                out.append(TaskTest(scenario, strategy, task, sum(a is not None and b is not None for a, b in cells), test))
    return out


def mcnemar_markdown(tests: list[TaskTest], baseline: str) -> str:
    """One row per (scenario, strategy, task): discordant counts and the exact p-value, ``*`` below 0.05."""
    if not tests:
        return "(no matched runs store per-example outcomes: no McNemar test)"
    headers = ["scenario", f"strategy vs {markdown_escape(baseline)}", "task", "runs",
               f"{markdown_escape(baseline)} right only", "strategy right only", "McNemar p"]
    rows = [
        [markdown_escape(t.scenario), markdown_escape(t.strategy), markdown_escape(t.task), str(t.runs),
         str(t.test.only_baseline), str(t.test.only_strategy),
         f"{t.test.p_value:.3g}" + (" *" if t.test.p_value < SIGNIFICANT else "")]
        for t in tests
    ]
    note = (f"McNemar's exact test on each task's final-row outcomes, pooled over matched runs; `*`: p < {SIGNIFICANT} "
            "(per test, not corrected for the number of tasks and strategies).")
    return tabulate(rows, headers=headers, tablefmt="github", disable_numparse=True) + "\n\n" + note
