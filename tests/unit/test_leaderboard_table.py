"""Golden tests: hand-made records -> aggregated rows and every table format."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import pytest

from benchmark.cli import main
from benchmark.results.metrics import compute_metrics
from benchmark.results.records import SCHEMA_VERSION, RunRecord, TaskTiming, read_record, write_record
from leaderboard.aggregate import aggregate, sort_rows
from leaderboard.loading import load_records
from leaderboard.formats import render


def make_record(strategy: str, seed: int, acc: float | None, forgetting: float | None = 0.1, *, ppl_ratio: float | None = 1.2,
                reference: bool = False, status: str = "finished", scenario: str = "toy", order: int = 1) -> RunRecord:
    """A two-task record whose raw numbers give ``acc``, ``forgetting`` and ``ppl_ratio`` (None: not measured), with every
    metric computed from them, as a run stores it (so it passes validate, which the leaderboard requires)."""
    first = None if acc is None or forgetting is None else acc + forgetting  # task a right after it was learned
    measures = {
        "accuracy": [[0.5, 0.5], [first, 0.5], [acc, acc]], "perplexity": [10.0, 11.0, None if ppl_ratio is None else 10.0 * ppl_ratio],
        "bits_per_byte": [1.0, 1.1, 1.2],
    }
    metrics = compute_metrics(measures) if status == "finished" else {}
    assert status != "finished" or (metrics["acc"], metrics["forgetting"]) == (pytest.approx(acc) if acc is not None else None, pytest.approx(forgetting) if first is not None else None)
    return RunRecord(
        scenario=scenario, scenario_version=1, order=order, tasks=["a", "b"], strategy=strategy, seed=seed, model="tiny",
        setting="task_incremental", measures=measures, metrics=metrics,
        parameters={"total": 1000, "trainable": 1000, "added": 0, "extra_bytes": 2 * 2**20}, timings=[TaskTiming("a", 1.0, 0.5, 0.2, 4)],
        total_seconds=2.0 + seed, data_hashes={"a": "x", "b": "y"}, config={}, environment={}, status=status, reference=reference,
    )


RECORDS = [
    make_record("naive", 0, 0.80, 0.10), make_record("naive", 1, 0.70, 0.20),
    make_record("ewc", 0, 0.85, None), make_record("ewc", 1, None, None, status="failed"),
    make_record("joint", 0, 0.95, None, reference=True),
]


def test_record_round_trips_through_json(tmp_path: Path) -> None:
    record = make_record("naive", 0, 0.8, 0.1)
    path = write_record(tmp_path, record)
    assert path.name == "toy__o1__naive__s0.json"
    assert read_record(path) == record
    assert json.loads(path.read_text())["schema_version"] == SCHEMA_VERSION


def test_aggregation_mean_std_n_and_failed_runs() -> None:
    table = aggregate(RECORDS).set_index("strategy")
    assert table.loc["naive", "n"] == 2 and table.loc["naive", "failed"] == 0
    assert table.loc["naive", "acc:mean"] == pytest.approx(0.75)
    assert table.loc["naive", "acc:std"] == pytest.approx(0.0707106781)  # sample std (ddof=1) of 0.8 and 0.7
    assert table.loc["ewc", "n"] == 1 and table.loc["ewc", "failed"] == 1
    assert table.loc["ewc", "forgetting:n"] == 0
    assert bool(table.loc["joint", "reference"])


def test_markdown_golden() -> None:
    text = render(sort_rows(aggregate(RECORDS), "acc"), "md")
    lines = text.splitlines()
    assert "ACC ↑ (%)" in lines[0] and "Forgetting ↓ (%)" in lines[0] and "PPL ratio ↓" in lines[0] and "time (s) ↓" in lines[0]
    rows = {line.split("|")[2].strip(): [c.strip() for c in line.split("|")[1:-1]] for line in lines[2:]}
    assert list(rows) == ["ewc", "naive", "joint (reference)"]  # best ACC first, reference last
    assert rows["ewc"][2] == "1 (+1 failed)"
    assert rows["ewc"][3] == "**85.0**"  # best ACC among contenders (joint's 95.0 is a reference)
    assert rows["naive"][3] == "75.0 ± 7.1"
    assert rows["joint (reference)"][3] == "95.0"
    assert rows["ewc"][6] == "-"  # no forgetting value: a dash
    assert rows["naive"][6] == "**15.0 ± 7.1**"  # the only (hence best, lowest) forgetting
    assert rows["naive"][11] == "**2.0**"  # extra memory in MB, equal for all -> all bold
    assert rows["ewc"][11] == "**2.0**"


def test_sort_by_any_column() -> None:
    by_time = sort_rows(aggregate(RECORDS), "seconds")
    assert list(by_time["strategy"]) == ["ewc", "naive", "joint"]  # 2.0 s < 2.5 s (lower is better); reference last
    by_forgetting = sort_rows(aggregate(RECORDS), "forgetting")
    assert list(by_forgetting["strategy"])[:2] == ["naive", "ewc"]  # missing values last


def test_confidence_interval_is_a_seeded_bootstrap() -> None:
    records = [make_record("naive", s, acc) for s, acc in enumerate([0.6, 0.7, 0.8, 0.9])]
    table = aggregate(records, ci=True)
    low, high = table.loc[0, "acc:low"], table.loc[0, "acc:high"]
    assert 0.6 <= low < 0.75 < high <= 0.9
    assert aggregate(records, ci=True).loc[0, "acc:low"] == low  # reproducible
    assert "[" in render(table, "md", ci=True)


@pytest.mark.parametrize("fmt", ["md", "latex", "csv", "html", "json"])
def test_every_format_renders(fmt: str) -> None:
    text = render(sort_rows(aggregate(RECORDS), "acc"), fmt)
    assert "naive" in text and "ewc" in text
    if fmt == "latex":
        assert text.startswith("\\begin{tabular}") and "\\toprule" in text and "\\midrule" in text and "\\bottomrule" in text
        assert "\\textbf{85.0}" in text and "$\\uparrow$" in text and "\\textit{joint}" in text and "75.0 $\\pm$ 7.1" in text
    if fmt == "csv":
        rows = list(csv.DictReader(io.StringIO(text)))
        naive = next(r for r in rows if r["strategy"] == "naive")
        assert float(naive["acc:mean"]) == pytest.approx(0.75) and naive["forgetting:mean"] != ""
    if fmt == "html":
        assert text.startswith("<table") and "<b>85.0</b>" in text and 'data-value="0.75"' in text
    if fmt == "json":
        rows = json.loads(text)
        ewc = next(r for r in rows if r["strategy"] == "ewc")
        assert ewc["forgetting"]["mean"] is None and ewc["failed"] == 1


def test_corrupt_and_partial_records_are_reported_and_skipped(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    for record in RECORDS:
        write_record(tmp_path, record)
    (tmp_path / "broken.json").write_text('{"schema_version": 1, "scen')
    (tmp_path / "other.json").write_text('{"hello": 1}')
    loaded = load_records(tmp_path)
    assert len(loaded.records) == len(RECORDS)
    assert sorted(p.split(" (")[0] for p in loaded.problems) == ["broken.json", "other.json"]
    assert main(["leaderboard", "--results", str(tmp_path), "--format", "md"]) == 0
    captured = capsys.readouterr()
    assert captured.err.startswith("left out 2 of 7 record file(s): broken.json (not a valid run record") and captured.err.count("\n") == 1 and "| naive" in captured.out


def test_leaderboard_of_a_missing_directory_is_a_user_error(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["leaderboard", "--results", str(tmp_path / "nope")]) == 2
    assert "does not exist" in capsys.readouterr().err


@pytest.mark.parametrize("fmt", ["md", "csv", "json"])
def test_columns_shows_only_the_chosen_columns_in_their_order(fmt: str) -> None:
    from leaderboard.aggregate import select_columns

    text = render(select_columns(sort_rows(aggregate(RECORDS), "acc"), ["forgetting", "acc"]), fmt)
    if fmt == "md":
        header = text.splitlines()[0]
        assert "Forgetting" in header and "ACC" in header and "BWT" not in header and "PPL" not in header
        assert header.index("Forgetting") < header.index("ACC")
    if fmt == "csv":
        assert next(csv.reader(io.StringIO(text)))[5:] == ["forgetting:mean", "forgetting:std", "forgetting:n", "acc:mean", "acc:std", "acc:n"]
    if fmt == "json":
        assert set(json.loads(text)[0]) >= {"acc", "forgetting"} and "bwt" not in json.loads(text)[0]


def test_an_unknown_column_is_one_sentence_with_close_matches() -> None:
    from benchmark.core.errors import UserError
    from leaderboard.aggregate import select_columns

    with pytest.raises(UserError, match="--columns names 'forgeting', which is no column of this table; did you mean 'forgetting'"):
        select_columns(aggregate(RECORDS), ["acc", "forgeting"])
