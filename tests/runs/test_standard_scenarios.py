"""Standard scenarios: published orders, label sets, and real files through the local-directory path."""

from __future__ import annotations

import os
from collections import Counter
from dataclasses import replace
from pathlib import Path

import pandas as pd
import pytest

from benchmark.cli import main
from benchmark.core.errors import UserError
from benchmark.results.records import read_record, record_files
from scenarios.catalog import SCENARIOS, load_scenario
from scenarios.prepare import _clean_frame, field_map, load_frame, prepare_task
from tests.conftest import SHARED_DATA

if os.environ.get("FORGETBENCH_REQUIRE_SHARED_DATA") == "1" and not SHARED_DATA.is_dir():  # .ci/run sets it
    raise RuntimeError(f"FORGETBENCH_REQUIRE_SHARED_DATA=1 but the standard benchmark files are not at {SHARED_DATA}")
needs_shared = pytest.mark.skipif(not SHARED_DATA.is_dir(), reason=f"the standard benchmark files are not at {SHARED_DATA} (../shared/data)")

# Transcribed from the papers (see each scenario's `paper` field).
PUBLISHED_ORDERS = {
    "mbpp5": [  # de Masson d'Autume et al. 2019
        ["yelp", "ag", "dbpedia", "amazon", "yahoo"],
        ["dbpedia", "yahoo", "ag", "amazon", "yelp"],
        ["yelp", "yahoo", "amazon", "dbpedia", "ag"],
        ["ag", "yelp", "amazon", "yahoo", "dbpedia"],
    ],
    "pp4": [  # Progressive Prompts / O-LoRA, orders 1-3
        ["dbpedia", "amazon", "yahoo", "ag"],
        ["dbpedia", "amazon", "ag", "yahoo"],
        ["yahoo", "amazon", "ag", "dbpedia"],
    ],
    "long15": [  # Progressive Prompts orders 4-6
        "mnli cb wic copa qqp boolq rte imdb yelp amazon sst2 dbpedia ag multirc yahoo".split(),
        "multirc boolq wic mnli cb copa qqp rte imdb sst2 dbpedia ag yelp amazon yahoo".split(),
        "yelp amazon mnli cb copa qqp rte imdb sst2 dbpedia ag yahoo multirc boolq wic".split(),
    ],
}
STANDARD = ["mbpp5", "mbpp5_idbr", "pp4", "long15", "senteval", "glue", "intermediate"]


@pytest.mark.parametrize("name", sorted(PUBLISHED_ORDERS))
def test_orders_are_exactly_as_published(name: str) -> None:
    assert load_scenario(name).orders == PUBLISHED_ORDERS[name]
    assert load_scenario("mbpp5_idbr").orders == PUBLISHED_ORDERS["mbpp5"]


@pytest.mark.parametrize("name", STANDARD)
def test_every_standard_scenario_documents_hub_and_local_sources(name: str) -> None:
    spec = load_scenario(name)
    assert name in SCENARIOS and spec.paper and spec.description
    for task in spec.tasks:
        assert task.source.loader == "hub" and task.source.args.get("dataset")
        assert task.local is not None and task.local.loader == "local_files"
    assert spec.perplexity is not None and spec.perplexity.local is not None


def test_class_incremental_mbpp5_has_33_classes_with_yelp_and_amazon_merged() -> None:
    spec = load_scenario("mbpp5")
    union = list(dict.fromkeys(label for task in spec.tasks for label in task.labels))
    assert len(union) == 33
    assert spec.task("yelp").labels == spec.task("amazon").labels


def test_sampled_settings() -> None:
    assert {t.train_per_class for t in load_scenario("mbpp5_idbr").tasks} == {2000}
    assert {t.train_size for t in load_scenario("mbpp5").tasks} == {115000}
    assert {t.test_size for t in load_scenario("mbpp5").tasks} == {7600}
    assert {t.train_per_class for t in load_scenario("pp4").tasks} == {1000}


def test_intermediate_grid_is_every_ordered_pair() -> None:
    spec = load_scenario("intermediate")
    names = [t.name for t in spec.tasks]
    assert len(spec.orders) == len(names) * (len(names) - 1)
    assert {tuple(o) for o in spec.orders} == {(a, b) for a in names for b in names if a != b}


def test_a_source_gone_from_the_hub_says_so_and_how_to_use_local_files() -> None:
    amazon = load_scenario("mbpp5").task("amazon")
    expected = (r"no longer available \(amazon_reviews_multi was taken down.*\); put amazon_review_full/train.csv and "
                r"amazon_review_full/test.csv under a folder and pass it as --data-dir")
    with pytest.raises(UserError, match=expected):
        prepare_task(amazon, seed=0, data_dir=None, source_name="mbpp5")


def test_an_unreachable_hub_points_at_the_local_layout(monkeypatch: pytest.MonkeyPatch) -> None:
    import datasets

    def offline(*args: object, **kwargs: object) -> None:
        raise ConnectionError("Couldn't reach the Hugging Face Hub (offline)")

    monkeypatch.setattr(datasets, "load_dataset", offline)
    with pytest.raises(UserError, match=r"hub dataset 'fancyzhx/ag_news'.*could not be loaded.*put ag_news/train.csv and ag_news/test.csv under a folder and pass it as --data-dir"):
        prepare_task(load_scenario("mbpp5").task("ag"), seed=0, data_dir=None, source_name="mbpp5")


@needs_shared
def test_ag_news_test_file_loads_with_its_counts_and_labels() -> None:
    ag = load_scenario("mbpp5").task("ag")
    assert ag.local is not None
    # The shared folder holds only AG News' test file: read it through the task's own local source.
    test_only = replace(ag.local, args={**{k: v for k, v in ag.local.args.items() if k != "files"}, "path": "ag_news/test.csv"})
    frame = load_frame(replace(ag, local=test_only), data_dir=SHARED_DATA, where="ag")
    clean = _clean_frame(frame, ag, field_map(ag, test_only), "ag")
    assert len(clean) == 7600
    assert Counter(ag.labels[i] for i in clean["label"]) == {name: 1900 for name in ag.labels}
    assert clean["text"].iloc[0].startswith("Fears for T N pension after talks Unions representing")  # title + description


SENTEVAL_COUNTS = {  # raw rows (label-only lines included), per-class counts of the non-empty rows
    "mr": (10662, {"negative": 5331, "positive": 5331}),
    "cr": (3775, {"negative": 1366, "positive": 2405}),  # + 4 label-only lines (2 each)
    "subj": (10000, {"objective": 5000, "subjective": 5000}),
    "mpqa": (10606, {"negative": 7292, "positive": 3311}),  # + 3 label-only lines
    "trec": (5952, {"description": 1300, "entity": 1344, "abbreviation": 95, "human": 1288, "location": 916, "number": 1009}),  # 5,452 + 500
    "sst2": (8741, {"negative": 4222, "positive": 4519}),  # 6,920 + 1,821
}


@needs_shared
@pytest.mark.parametrize("task_name", sorted(SENTEVAL_COUNTS))
def test_senteval_files_load_with_their_counts_and_labels(task_name: str) -> None:
    task = load_scenario("senteval").task(task_name)
    source = task.source_for(SHARED_DATA)
    frame = load_frame(task, data_dir=SHARED_DATA, where=task_name)
    rows, per_class = SENTEVAL_COUNTS[task_name]
    assert len(frame) == rows
    clean = _clean_frame(frame, task, field_map(task, source), task_name)
    assert dict(Counter(task.labels[i] for i in clean["label"])) == per_class
    dataset = prepare_task(task, seed=0, data_dir=SHARED_DATA, source_name="senteval")
    assert len(dataset.train) == task.train_size and len(dataset.test) == task.test_size
    again = prepare_task(task, seed=0, data_dir=SHARED_DATA, source_name="senteval")
    other = prepare_task(task, seed=1, data_dir=SHARED_DATA, source_name="senteval")
    assert again.data_hash == dataset.data_hash and again.source_hash == dataset.source_hash
    assert other.source_hash == dataset.source_hash  # same file ...
    if "split" not in frame.columns:
        assert other.data_hash != dataset.data_hash  # ... different seeded split


@needs_shared
def test_wikitext_files_load_as_articles() -> None:
    spec = load_scenario("senteval").perplexity
    frame = load_frame(spec, data_dir=SHARED_DATA, where="corpus")
    assert len(frame) == 62 and frame["text"].iloc[0].startswith("= Robert <unk> = Robert <unk> is an English film")


@pytest.mark.slow
@needs_shared
def test_short_senteval_run_on_the_tiny_backbone(tmp_path: Path) -> None:
    out = tmp_path / "results"
    args = ["--scenario", "senteval", "--data-dir", str(SHARED_DATA), "--model", "tiny", "--strategies", "naive",
            "--train-size", "60", "--test-size", "30", "--out", str(out), "--no-progress",
            "--set", "eval.ppl_tokens=256", "--set", "eval.ppl_context=64"]
    assert main(args) == 0
    (path,) = record_files(out)
    record = read_record(path)
    assert record.tasks == ["mr", "cr", "subj", "mpqa", "trec", "sst2"]
    assert len(record.accuracy_matrix) == 7 and all(v is not None for v in record.accuracy_matrix[-1])
    assert set(record.source_hashes) == set(record.tasks) and all(len(h) == 64 for h in record.source_hashes.values())
    assert record.metrics["ppl_ratio"] is not None


def write_pair_task(directory: Path) -> Path:
    """A GLUE-like local pair task (which of the two sentences repeats the first word) and its scenario."""
    rows = []
    for i in range(120):
        a, b = f"alpha{i} beta gamma", f"delta{i} epsilon"
        rows.append({"sentence1": a, "sentence2": b if i % 2 else a, "label": "same" if i % 2 == 0 else "different"})
    directory.mkdir(parents=True, exist_ok=True)
    pd.DataFrame(rows).to_csv(directory / "pairs.tsv", sep="\t", index=False)
    (directory / "pairs.yaml").write_text(
        "name: pairs\nversion: 1\ntasks:\n"
        "  - name: pairs\n    source: {loader: hub, args: {dataset: none/none}}\n"
        f"    local: {{loader: local_files, args: {{path: {directory / 'pairs.tsv'}, quoting: false}}}}\n"
        "    text_field: sentence1\n    text_pair_field: sentence2\n    labels: [same, different]\n"
        "    train_size: 40\n    test_size: 20\n    max_length: 32\n"
        "orders:\n  - [pairs]\n",
        encoding="utf-8",
    )
    return directory / "pairs.yaml"


def test_sentence_pairs_go_through_the_tokenizer_pair_encoding(tmp_path: Path) -> None:
    from benchmark.model.encoding import encode_tasks
    from benchmark.model.tiny_backbone import tiny

    scenario = load_scenario(str(write_pair_task(tmp_path)))
    dataset = prepare_task(scenario.tasks[0], seed=0, data_dir=tmp_path, source_name="pairs")
    assert dataset.train.pairs is not None and len(dataset.train.pairs) == 40
    backbone = tiny(texts=dataset.pool_texts + dataset.train.pairs)
    (task,) = encode_tasks(backbone, [dataset], "task_incremental")
    sep = backbone.tokenizer.sep_token_id
    first = task.train.input_ids[0]
    assert first.count(sep) == 1
    expected = backbone.tokenizer(dataset.train.texts[0], dataset.train.pairs[0])["input_ids"]
    assert first == expected


def test_order_all_runs_every_pair_of_a_grid(tmp_path: Path) -> None:
    from tests.conftest import write_toy_scenario

    base = write_toy_scenario(tmp_path / "toy", n_tasks=3).read_text()
    grid = base.split("orders:")[0] + "grid: true\n" + "perplexity:" + base.split("perplexity:")[1]
    path = tmp_path / "toy" / "grid.yaml"
    path.write_text(grid.replace("name: toy", "name: toygrid"))
    out = tmp_path / "out"
    assert main(["--scenario", str(path), "--model", "tiny", "--strategies", "naive", "--order", "all", "--out", str(out),
                 "--no-progress", "--set", "eval.ppl_tokens=128", "--set", "eval.ppl_context=32"]) == 0
    records = [read_record(p) for p in record_files(out)]
    assert sorted(r.order for r in records) == [1, 2, 3, 4, 5, 6]
    assert {tuple(r.tasks) for r in records} == {(a, b) for a in ("task1", "task2", "task3") for b in ("task1", "task2", "task3") if a != b}
