"""``make leaderboard``'s script: every built-in strategy runs, the page is written from exactly those records, reruns reuse them."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from tests.conftest import write_toy_scenario

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "benchmarks"))
from publish_leaderboard import main, strategies_for  # noqa: E402

pytestmark = pytest.mark.slow  # runs every strategy


def test_every_built_in_strategy_runs_and_the_page_shows_each_with_its_comparison(tmp_path: Path) -> None:
    scenario = write_toy_scenario(tmp_path / "toy", n_tasks=2, n_per_class=16, train_size=12, test_size=8)
    paths = ["--results", str(tmp_path / "results"), "--out", str(tmp_path / "leaderboard.md"), "--page", str(tmp_path / "page.html"),
             "--suites", "heads", "--seeds", "0"]
    assert main([*paths, "--", "--preset", "smoke", "--scenario", str(scenario), "--train-size", "12", "--test-size", "8"]) == 0
    page = (tmp_path / "leaderboard.md").read_text()
    for name in strategies_for("heads"):
        assert f"| {name} " in page or f"| {name} (reference)" in page, name
    assert "compare --results" in page and "| strategy - naive" in page and "made at commit(s)" in page
    assert (tmp_path / "page.html").read_text().startswith("<!DOCTYPE html>")
    records = sorted((tmp_path / "results" / "heads").glob("*.json"))
    stamps = [p.stat().st_mtime_ns for p in records]
    assert main([*paths, "--", "--preset", "smoke", "--scenario", str(scenario), "--train-size", "12", "--test-size", "8"]) == 0  # every record reused: nothing runs
    assert [p.stat().st_mtime_ns for p in records] == stamps
    assert main([*paths, "--write-only"]) == 0 and (tmp_path / "leaderboard.md").read_text() == page  # the page is the records'
    assert "avalanche" not in page and len(records) == len(strategies_for("heads"))
