"""Tokenised tasks: heads, class-incremental label union, caching, corpus windows."""

from __future__ import annotations

from pathlib import Path

from benchmark.model.encoding import encode_corpus, encode_tasks, head_sizes, union_labels
from benchmark.model.tiny_backbone import tiny
from scenarios.prepare import TaskDataset, TextSplit
from scenarios.spec import SourceSpec, TaskSpec


def dataset(name: str, labels: list[str], texts: list[str], y: list[int]) -> TaskDataset:
    spec = TaskSpec(name=name, source=SourceSpec(loader="x"), labels=labels, max_length=8)
    split = TextSplit(texts=texts, labels=y)
    return TaskDataset(spec=spec, train=split, test=split, data_hash=f"hash-{name}", source_hash=f"src-{name}", pool_texts=texts)


A = dataset("a", ["neg", "pos"], ["bad film", "good film"], [0, 1])
B = dataset("b", ["pos", "neutral", "neg"], ["fine day", "okay day", "sad day"], [0, 1, 2])


def test_task_incremental_gives_each_task_its_head() -> None:
    backbone = tiny(texts=["bad film good fine okay sad day"])
    tasks = encode_tasks(backbone, [A, B], "task_incremental")
    assert [t.head for t in tasks] == ["a", "b"]
    assert head_sizes(tasks) == {"a": 2, "b": 3}
    assert tasks[1].train.labels == [0, 1, 2]


def test_class_incremental_merges_equal_label_names_into_one_head() -> None:
    assert union_labels([A, B]) == ["neg", "pos", "neutral"]
    backbone = tiny(texts=["bad film good fine okay sad day"])
    tasks = encode_tasks(backbone, [A, B], "class_incremental")
    assert {t.head for t in tasks} == {"shared"}
    assert head_sizes(tasks) == {"shared": 3}
    # b's pos/neutral/neg become union indices 1/2/0
    assert tasks[1].train.labels == [1, 2, 0]


def test_tokenisation_is_cached_on_disk(isolated_cache: Path) -> None:
    backbone = tiny(texts=["bad film good"])
    encode_tasks(backbone, [A], "task_incremental")
    cached = list((isolated_cache / "tokens").glob("*.json"))
    assert len(cached) == 1
    first = encode_tasks(backbone, [A], "task_incremental")[0].train.input_ids
    assert first == backbone.tokenizer(A.train.texts, truncation=True, max_length=8)["input_ids"]


def test_corpus_windows_count_tokens_and_bytes() -> None:
    docs = ["one two three four five six", "seven eight nine", "ten eleven"]
    backbone = tiny(texts=docs)
    corpus = encode_corpus(backbone, docs, context=4, budget=6)
    # first 4 tokens of doc 1, then the 2 tokens left of the budget from doc 2
    assert corpus.n_tokens == 6 and corpus.documents_used == 2
    assert [w[0] for w in corpus.windows] == [backbone.tokenizer.bos_token_id] * 2
    assert corpus.n_bytes == len("one two three four") + len("seven eight")


def test_a_prompt_cut_on_the_left_keeps_its_last_tokens_and_hashes_apart() -> None:
    from benchmark.model.prompt_encoding import PromptEncoder, prompt_hash
    from scenarios.prompts import TaskPrompt

    backbone = tiny(texts=["one two three four five six seven eight"])
    text = "one two three four five six seven eight"
    right = TaskPrompt("{text}", None, [], "plain")
    left = TaskPrompt("{text}", None, [], "plain", truncation_side="left")
    assert PromptEncoder(backbone.tokenizer, right, 3).cut([text, None, "one"]) == ["one two three", None, "one"]
    assert PromptEncoder(backbone.tokenizer, left, 3).cut([text, None, "one"]) == ["six seven eight", None, "one"]  # TRACE keeps the end
    assert prompt_hash(right, [], 3) == "eebbadaeee6e84bf"  # what the code before truncation_side gave: earlier runs keep their hashes
    assert prompt_hash(left, [], 3) != prompt_hash(right, [], 3)
