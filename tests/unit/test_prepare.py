"""Task data: local file formats, label maps, de-duplication and seeded class-balanced splits."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pandas as pd
import pytest

from benchmark.core.errors import UserError
from scenarios.prepare import TaskDataset, class_quotas, prepare_task
from scenarios.spec import SourceSpec, TaskSpec


def frame(n_per_class: int = 30) -> pd.DataFrame:
    rows = [{"text": f"example {label} number {i}", "label": label} for label in ("a", "b", "c") for i in range(n_per_class)]
    return pd.DataFrame(rows)


def spec_for(path: Path, **kwargs: object) -> TaskSpec:
    args = {"path": str(path)}
    args.update(kwargs.pop("args", {}))  # type: ignore[arg-type]
    values = {"name": "t", "source": SourceSpec(loader="local_files", args=args), "labels": ["a", "b", "c"], "train_size": 30, "test_size": 15}
    values.update(kwargs)
    return TaskSpec(**values)  # type: ignore[arg-type]


def prepare(spec: TaskSpec, seed: int = 0, **kwargs: object) -> TaskDataset:
    return prepare_task(spec, seed=seed, data_dir=None, source_name="test", **kwargs)  # type: ignore[arg-type]


@pytest.mark.parametrize("fmt", ["csv", "tsv", "jsonl", "parquet"])
def test_every_table_format_loads(tmp_path: Path, fmt: str) -> None:
    data = frame()
    path = tmp_path / f"data.{fmt}"
    {"csv": lambda: data.to_csv(path, index=False), "tsv": lambda: data.to_csv(path, sep="\t", index=False),
     "jsonl": lambda: data.to_json(path, orient="records", lines=True), "parquet": lambda: data.to_parquet(path)}[fmt]()
    task = prepare(spec_for(path))
    assert len(task.train) == 30 and len(task.test) == 15


def test_senteval_lines_and_label_map(tmp_path: Path) -> None:
    path = tmp_path / "stsa.binary.train"
    path.write_text("".join(f"{i % 2} sentence {i} here\n" for i in range(40)))
    spec = spec_for(path, args={"format": "senteval"}, labels=["negative", "positive"], label_map={"0": "negative", "1": "positive"}, train_size=20, test_size=10)
    task = prepare(spec)
    assert Counter(task.train.labels) == {0: 10, 1: 10}
    assert all(t.startswith("sentence") for t in task.train.texts)


def test_split_is_class_balanced_disjoint_and_seeded(tmp_path: Path) -> None:
    path = tmp_path / "d.csv"
    frame().to_csv(path, index=False)
    a, b, c = prepare(spec_for(path)), prepare(spec_for(path)), prepare(spec_for(path), seed=1)
    assert Counter(a.train.labels) == {0: 10, 1: 10, 2: 10}
    assert Counter(a.test.labels) == {0: 5, 1: 5, 2: 5}
    assert not set(a.train.texts) & set(a.test.texts)
    assert a.train.texts == b.train.texts and a.data_hash == b.data_hash
    assert a.train.texts != c.train.texts and a.data_hash != c.data_hash


def test_duplicates_are_dropped_and_conflicting_ones_removed(tmp_path: Path) -> None:
    data = frame()
    extra = pd.DataFrame([
        {"text": "EXAMPLE a number 0", "label": "a"},  # duplicate up to case -> one copy kept
        {"text": "both ways", "label": "a"}, {"text": "both ways", "label": "b"},  # conflicting -> dropped
    ])
    path = tmp_path / "d.csv"
    pd.concat([data, extra]).to_csv(path, index=False)
    task = prepare(spec_for(path, train_size=60, test_size=30))
    texts = [t.lower() for t in task.train.texts + task.test.texts]
    assert texts.count("example a number 0") == 1
    assert "both ways" not in texts


def test_source_splits_are_respected(tmp_path: Path) -> None:
    data = frame()
    data.iloc[:60].to_csv(tmp_path / "train.csv", index=False)
    pd.concat([data.iloc[:3], data.iloc[60:]]).to_csv(tmp_path / "test.csv", index=False)  # 3 train texts also in test
    spec = TaskSpec(name="t", source=SourceSpec(loader="local_files", args={"files": {"train": str(tmp_path / "train.csv"), "test": str(tmp_path / "test.csv")}}),
                    labels=["a", "b", "c"], balance=False, train_size=50, test_size=20)
    task = prepare(spec)
    assert set(task.test.texts) <= set(data.iloc[60:]["text"]) | set(data.iloc[:3]["text"])
    assert not set(task.train.texts) & set(task.test.texts)


def test_size_overrides_and_quotas(tmp_path: Path) -> None:
    path = tmp_path / "d.csv"
    frame().to_csv(path, index=False)
    task = prepare(spec_for(path), train_size=7, test_size=4)
    assert len(task.train) == 7 and Counter(task.train.labels) == {0: 3, 1: 2, 2: 2}
    assert class_quotas(7, 3) == [3, 2, 2]


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"text_field": "sentence"}, r"column\(s\) \['sentence'\] not found"),
        ({"labels": ["a", "b"]}, r"label\(s\) 'c' in 'label' are not in labels"),
        ({"train_size": 300}, r"class 'a' has 25 example\(s\) for the train split but needs 100"),
        ({"drop_labels": ["a", "b", "c"]}, "no examples are left"),
    ],
)
def test_data_errors_name_the_task(tmp_path: Path, change: dict, message: str) -> None:
    path = tmp_path / "d.csv"
    frame().to_csv(path, index=False)
    with pytest.raises(UserError, match=message) as info:
        prepare(spec_for(path, **change))
    assert "task 't'" in str(info.value)


def test_empty_texts_fail_unless_dropped(tmp_path: Path) -> None:
    data = pd.concat([frame(), pd.DataFrame([{"text": "   ", "label": "a"}])])
    path = tmp_path / "d.csv"
    data.to_csv(path, index=False)
    with pytest.raises(UserError, match="empty or non-text value in 'text'"):
        prepare(spec_for(path))
    assert len(prepare(spec_for(path, drop_empty=True)).train) == 30


def test_undecodable_file_suggests_an_encoding(tmp_path: Path) -> None:
    path = tmp_path / "d.csv"
    path.write_bytes("text,label\ncaf\xe9 au lait,a\n".encode("latin-1"))
    with pytest.raises(UserError, match="not valid utf-8 text .*source.args.encoding"):
        prepare(spec_for(path))


def test_missing_file_points_to_data_dir(tmp_path: Path) -> None:
    with pytest.raises(UserError, match="does not exist; pass --data-dir"):
        prepare(spec_for(tmp_path / "absent.csv"))
