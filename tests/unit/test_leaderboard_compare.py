"""Paired differences to a baseline: matched by order and seed, bootstrap interval, marked when it excludes 0."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from benchmark.cli import main
from benchmark.core.errors import UserError
from benchmark.results.records import write_record
from leaderboard.aggregate import BOOTSTRAP_SAMPLES, BOOTSTRAP_SEED
from leaderboard.compare import paired_differences
from tests.unit.test_leaderboard_table import make_record


def run(strategy: str, seed: int, bwt: float, ppl_ratio: float) -> object:
    record = make_record(strategy, seed, 0.7, -bwt, ppl_ratio=ppl_ratio)  # two tasks: forgetting = -BWT
    assert record.metrics["bwt"] == pytest.approx(bwt)
    return record


RECORDS = [
    run("naive", 0, -0.10, 2.0), run("naive", 1, -0.12, 2.5), run("naive", 2, -0.02, 1.5),
    run("ewc", 0, -0.04, 1.9), run("ewc", 1, -0.05, 2.6), run("ewc", 2, -0.01, 1.4),
    run("ewc", 3, +0.50, 1.0),  # no naive run with seed 3: not a pair, ignored
]


def test_differences_are_paired_by_seed_and_bootstrapped_like_the_leaderboard() -> None:
    found = {(d.strategy, d.column.key): d for d in paired_differences(RECORDS, "naive")}
    bwt = found[("ewc", "bwt")]
    diffs = np.array([0.06, 0.07, 0.01])
    assert bwt.n == 3 and bwt.mean == pytest.approx(diffs.mean())
    rng = np.random.default_rng(BOOTSTRAP_SEED)
    means = diffs[rng.integers(0, 3, size=(BOOTSTRAP_SAMPLES, 3))].mean(axis=1)
    assert (bwt.low, bwt.high) == pytest.approx(tuple(np.percentile(means, [2.5, 97.5])))
    assert bwt.excludes_zero  # all three pairs forget less with ewc
    ppl = found[("ewc", "ppl_ratio")]
    assert ppl.mean == pytest.approx((-0.1 + 0.1 - 0.1) / 3) and not ppl.excludes_zero  # signs disagree


def test_compare_command_marks_intervals_that_exclude_zero(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    for record in RECORDS:
        write_record(tmp_path, record)
    assert main(["leaderboard", "compare", "--results", str(tmp_path), "--baseline", "naive"]) == 0
    (row,) = [line for line in capsys.readouterr().out.splitlines() if "| ewc" in line]
    cells = [c.strip() for c in row.strip("|").split("|")]
    assert cells[2] == "3"  # pairs
    assert any(c.startswith("+4.7 [") and c.endswith("*") for c in cells)  # BWT: +4.7 points, excludes 0
    assert any(c.startswith("-0.033 [") and not c.endswith("*") for c in cells)  # PPL ratio: does not


def test_an_unknown_baseline_is_one_sentence() -> None:
    with pytest.raises(UserError, match=r"no finished run of --baseline 'nave' among the records; use one of \['ewc', 'naive'\]"):
        paired_differences(RECORDS, "nave")
