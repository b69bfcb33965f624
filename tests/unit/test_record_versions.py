"""Records of every schema version stay readable: a version-1 record kept from before measures were named series, and a
version-2 record kept from before per-example outcomes."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from benchmark.cli import main
from benchmark.results.records import SCHEMA_VERSION, read_record, write_record
from leaderboard.aggregate import aggregate
from leaderboard.validate import validate_results

KEPT = Path(__file__).resolve().parents[1] / "data" / "records_v1"
V1_FILE = KEPT / "default__o1__naive__s0.json"  # written by `make run` at commit a736b3b (SmolLM2-135M, 2-core CPU)
V2_FILE = KEPT.parent / "records_v2" / "default__o1__naive__s0.json"  # benchmarks/why_forgot.py at 5341bf8 (minilm-l6, probes, CKA)


def test_a_version_1_record_reads_with_its_series_under_measures() -> None:
    raw = json.loads(V1_FILE.read_text())
    assert raw["schema_version"] == 1 and "measures" not in raw
    record = read_record(V1_FILE)
    assert record.schema_version == SCHEMA_VERSION
    assert record.accuracy_matrix == raw["accuracy_matrix"] == record.measures["accuracy"]
    assert record.perplexity == raw["perplexity"] and record.bits_per_byte == raw["bits_per_byte"]


def test_validate_and_the_leaderboard_accept_the_kept_record(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    shutil.copy(V1_FILE, tmp_path / V1_FILE.name)
    assert validate_results(tmp_path) == []  # its stored metrics recompute from the upgraded series
    assert main(["leaderboard", "--results", str(tmp_path)]) == 0
    assert "| default    | naive " in capsys.readouterr().out


def test_rewriting_an_old_record_writes_the_current_version_with_the_same_numbers(tmp_path: Path) -> None:
    old = read_record(V1_FILE)
    path = write_record(tmp_path, old)
    raw = json.loads(path.read_text())
    assert raw["schema_version"] == SCHEMA_VERSION and "accuracy_matrix" not in raw
    again = read_record(path)
    assert again.measures == old.measures and again.metrics == old.metrics
    table = aggregate([old, again])
    assert table.loc[0, "n"] == 2 and table.loc[0, "bwt:std"] == 0.0


def test_a_version_2_record_reads_as_it_is_and_validates_without_outcomes(tmp_path: Path) -> None:
    raw = json.loads(V2_FILE.read_text())
    assert raw["schema_version"] == 2 and "outcomes" not in raw["measures"]
    record = read_record(V2_FILE)
    assert record.measures == raw["measures"] and record.schema_version == 2
    shutil.copy(V2_FILE, tmp_path / V2_FILE.name)
    assert validate_results(tmp_path) == []


@pytest.mark.parametrize("version", [0, SCHEMA_VERSION + 1, "1", None])
def test_an_unknown_schema_version_is_refused_by_name(tmp_path: Path, version: object) -> None:
    raw = json.loads(V1_FILE.read_text())
    raw["schema_version"] = version
    (tmp_path / V1_FILE.name).write_text(json.dumps(raw))
    (problem,) = validate_results(tmp_path)
    assert f"schema_version {version!r} is not one of {list(range(1, SCHEMA_VERSION + 1))}" in problem


def test_a_schema_3_record_reads_with_the_revised_lm_recovery_fraction(tmp_path: Path) -> None:
    from benchmark.results.metrics import compute_metrics
    from leaderboard.validate import validate_results
    from tests.unit.test_leaderboard_table import make_record

    record = make_record("naive", 0, 0.8)
    record.measures["perplexity"] = [10.0, 10.0, 10.02]  # a 0.2% increase
    record.measures["lm_recovery"] = [[10.0] * 7, None, [10.02, 9.8, 9.6, 9.4, 9.2, 9.0, 8.75]]
    record.metrics = compute_metrics(record.measures)
    assert record.metrics["lm_recovery_fraction"] is None  # the revised definition: no meaningful value
    raw = record.to_json()
    raw["schema_version"], raw["metrics"]["lm_recovery_fraction"] = 3, (10.02 - 8.75) / 0.02  # what schema 3 stored: 6350%
    (tmp_path / "old.json").write_text(json.dumps(raw))
    assert read_record(tmp_path / "old.json").metrics["lm_recovery_fraction"] is None
    assert validate_results(tmp_path) == []
    raw["schema_version"] = 4  # a current record storing the unbounded value is a tampered one
    (tmp_path / "old.json").write_text(json.dumps(raw))
    assert any("lm_recovery_fraction" in line for line in validate_results(tmp_path))
