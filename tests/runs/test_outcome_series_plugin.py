"""A third-party measure with per-example outcomes: stored, validated and recomputed with no edit to the project.

The measure lives in a user's file loaded with ``--plugins``. It declares its outcome
series by name (``<score>_outcomes``); the record stores it, ``leaderboard validate``
checks the scores against it (and catches a tampered score), and a metric reading the
outcome series gets the decoded table.
"""

from __future__ import annotations

import json
import textwrap
from pathlib import Path

import pytest

from benchmark.cli import main
from benchmark.core.errors import UserError
from benchmark.engine.measures.base import check_outcome_series
from benchmark.results.outcomes import decode
from leaderboard.validate import validate_results
from tests.conftest import smoke_args, write_toy_scenario

PLUGIN = textwrap.dedent('''
    """Accuracy of always answering the first class, with its per-example outcomes."""
    from benchmark.engine.measures import Measure, register_measure
    from benchmark.results.metrics import register_metric
    from benchmark.results.outcomes import scored


    @register_measure("first_class")
    class FirstClass(Measure):
        """Accuracy of answering class 0 to every test example (a majority-style floor)."""

        series = {"first_class": "per_task", "first_class_outcomes": "per_task"}
        after = "last_task"

        def measure(self, model, point, env):
            values, cells = {}, {}
            for j in point.columns:
                gold = point.tasks[j].test.labels
                values[j], cells[j] = scored(gold, [0] * len(gold))
            return {"first_class": values, "first_class_outcomes": cells}


    @register_metric("first_class_examples", higher_is_better=True, input="first_class_outcomes", kind="count")
    def first_class_examples(table):
        """Test examples the first-class floor got right on the last row (read from the outcome table)."""
        return float(sum(int(cell.correct.sum()) for cell in table.cells[-1] if cell is not None))
''')


def test_a_plugin_measures_outcomes_are_stored_validated_and_recomputed(tmp_path: Path) -> None:
    scenario = write_toy_scenario(tmp_path / "toy", n_tasks=2, n_per_class=20, train_size=16, test_size=10)
    plugin = tmp_path / "first_class.py"
    plugin.write_text(PLUGIN, encoding="utf-8")
    out = tmp_path / "out"
    args = smoke_args(scenario, out, "--set", "eval.ppl_tokens=0", "--threads", "1", "--seeds", "0", "--plugins", str(plugin),
                      "--measures", "accuracy,first_class")
    assert main(args) == 0
    path, = out.rglob("*naive*.json")
    record = json.loads(path.read_text())
    last = record["measures"]["first_class_outcomes"][-1]
    assert all(decode(cell).chosen.tolist() == [0] * 10 for cell in last)  # stored as outcome cells
    gold_zeros = sum(int((decode(cell).gold == 0).sum()) for cell in last)
    assert record["metrics"]["first_class_examples"] == gold_zeros  # the metric got the decoded table
    assert validate_results(out) == []
    record["measures"]["first_class"][-1][0] += 0.1  # a tampered score no longer matches its outcomes
    path.write_text(json.dumps(record))
    problems = validate_results(out)
    assert any("first_class of task 'task1'" in p and "its outcomes give" in p for p in problems), problems


def test_an_outcome_series_without_its_score_series_is_refused() -> None:
    with pytest.raises(UserError, match="stores the outcome series 'hits_outcomes' but not the score series 'hits'"):
        check_outcome_series("hits", {"hits_outcomes": "per_task"})
    check_outcome_series("hits", {"hits": "per_task", "hits_outcomes": "per_task"})
