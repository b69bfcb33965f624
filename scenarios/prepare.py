"""From a task's raw frame to a seeded, class-balanced, de-duplicated train/test split.

Every check a user's data can fail (missing column, label outside the label set,
empty text, too few examples) is a one-sentence UserError naming the task.
"""

from __future__ import annotations

import hashlib
import json
import zlib
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from benchmark.errors import UserError
from scenarios.loaders import run_loader
from scenarios.spec import CorpusSpec, TaskSpec


@dataclass
class TextSplit:
    """Texts (and optional second texts of a pair) with integer labels into the task's label list."""

    texts: list[str]
    labels: list[int]
    pairs: list[str] | None = None

    def __len__(self) -> int:
        return len(self.texts)


@dataclass
class TaskDataset:
    """One task's data for one seed."""

    spec: TaskSpec
    train: TextSplit
    test: TextSplit
    data_hash: str
    pool_texts: list[str]


def class_quotas(size: int, n_classes: int) -> list[int]:
    """Splits ``size`` over classes as evenly as possible (the first classes take the remainder)."""
    return [size // n_classes + (1 if i < size % n_classes else 0) for i in range(n_classes)]


def _normalise(text: str) -> str:
    return " ".join(text.lower().split())


def _clean_frame(frame: pd.DataFrame, spec: TaskSpec, where: str) -> pd.DataFrame:
    """Selects and checks the text/label columns and maps labels to class indices."""
    needed = [spec.text_field, spec.label_field] + ([spec.text_pair_field] if spec.text_pair_field else [])
    missing = [c for c in needed if c not in frame.columns]
    if missing:
        raise UserError(
            f"{where}: column(s) {missing} not found in the loaded data (columns: {[str(c) for c in frame.columns]}); "
            "fix text_field/label_field in the scenario"
        )
    out = pd.DataFrame({"raw_label": frame[spec.label_field].astype(str)})
    if frame[spec.label_field].isna().any():
        raise UserError(f"{where}: {int(frame[spec.label_field].isna().sum())} row(s) have no label in {spec.label_field!r}; remove them")
    keep = pd.Series(True, index=frame.index)
    for key, column in (("text", spec.text_field), ("pair", spec.text_pair_field)):
        if column is None:
            continue
        values = frame[column]
        bad = [i for i, v in enumerate(values) if not isinstance(v, str) or not v.strip()]
        if bad and spec.drop_empty:
            keep.iloc[bad] = False
        elif bad:
            raise UserError(
                f"{where}: {len(bad)} row(s) have an empty or non-text value in {column!r} (first at row {bad[0]}); "
                "remove those rows from the source or set drop_empty: true for the task"
            )
        out[key] = values.to_numpy()
    if "split" in frame.columns:
        out["split"] = frame["split"].astype(str).to_numpy()
    out = out[keep.to_numpy()]
    out = out[~out["raw_label"].isin(spec.drop_labels)]
    names = out["raw_label"].map(lambda raw: spec.label_map.get(raw, raw))
    unknown = sorted(set(names) - set(spec.labels))
    if unknown:
        shown = ", ".join(repr(u) for u in unknown[:5]) + (" ..." if len(unknown) > 5 else "")
        raise UserError(
            f"{where}: label(s) {shown} in {spec.label_field!r} are not in labels {spec.labels}; "
            "add them to labels or label_map, or list them in drop_labels"
        )
    out["label"] = names.map({name: i for i, name in enumerate(spec.labels)}).astype(int)
    return out.drop(columns="raw_label")


def _deduplicate(frame: pd.DataFrame) -> pd.DataFrame:
    """Keeps one copy of each text (pair); drops texts that appear with conflicting labels."""
    key = frame["text"].map(_normalise)
    if "pair" in frame.columns:
        key = key + "\x00" + frame["pair"].map(_normalise)
    frame = frame.assign(_key=key)
    conflicting = frame.groupby("_key")["label"].transform("nunique") > 1
    frame = frame[~conflicting]
    # Prefer the test copy of a text that the source has in both splits, so test stays intact.
    if "split" in frame.columns:
        frame = frame.assign(_rank=(frame["split"] != "test").astype(int)).sort_values("_rank", kind="stable")
    frame = frame.drop_duplicates("_key", keep="first").sort_index()
    return frame.drop(columns=[c for c in ("_key", "_rank") if c in frame.columns])


def _sample(pool: pd.DataFrame, size: int, n_classes: int, balance: bool, rng: np.random.Generator, what: str, where: str, labels: list[str]) -> pd.DataFrame:
    if not balance:
        if len(pool) < size:
            raise UserError(f"{where}: the {what} split needs {size} examples but only {len(pool)} are available; lower its size")
        return pool.iloc[rng.permutation(len(pool))[:size]]
    picked = []
    for label, quota in enumerate(class_quotas(size, n_classes)):
        members = pool[pool["label"] == label]
        if len(members) < quota:
            raise UserError(
                f"{where}: class {labels[label]!r} has {len(members)} example(s) for the {what} split but needs {quota}; "
                "lower the split size (train_size/test_size or --train-size/--test-size) or set balance: false"
            )
        picked.append(members.iloc[rng.permutation(len(members))[:quota]])
    chosen = pd.concat(picked)
    return chosen.iloc[rng.permutation(len(chosen))]


def _to_split(frame: pd.DataFrame) -> TextSplit:
    return TextSplit(
        texts=frame["text"].tolist(),
        labels=[int(v) for v in frame["label"]],
        pairs=frame["pair"].tolist() if "pair" in frame.columns else None,
    )


def data_hash(train: TextSplit, test: TextSplit) -> str:
    """SHA-256 of exactly the examples a run trains and tests on (order included)."""
    digest = hashlib.sha256()
    for name, split in (("train", train), ("test", test)):
        pairs = split.pairs or [None] * len(split)
        for text, pair, label in zip(split.texts, pairs, split.labels):
            digest.update(json.dumps([name, label, text, pair], ensure_ascii=False).encode("utf-8"))
            digest.update(b"\n")
    return digest.hexdigest()


def task_rng(seed: int, task_name: str) -> np.random.Generator:
    """The split generator of one task: depends on the seed and the task, not on the order."""
    return np.random.default_rng([seed, zlib.crc32(task_name.encode("utf-8"))])


def prepare_task(
    spec: TaskSpec,
    *,
    seed: int,
    data_dir: Path | None,
    source_name: str,
    train_size: int | None = None,
    test_size: int | None = None,
) -> TaskDataset:
    """Loads, checks, de-duplicates and splits one task for ``seed``."""
    where = f"{source_name}: task {spec.name!r}"
    raw = run_loader(spec.source.loader, spec.source.args, data_dir=data_dir, where=where)
    frame = _deduplicate(_clean_frame(raw, spec, where))
    if frame.empty:
        raise UserError(f"{where}: no examples are left after dropping labels and duplicates; check the source and drop_labels")
    n_train = train_size or spec.train_size
    n_test = test_size or spec.test_size
    rng = task_rng(seed, spec.name)
    k = len(spec.labels)
    if "split" in frame.columns and set(frame["split"]) >= {"train", "test"}:
        test = _sample(frame[frame["split"] == "test"], n_test, k, spec.balance, rng, "test", where, spec.labels)
        train = _sample(frame[frame["split"] == "train"], n_train, k, spec.balance, rng, "train", where, spec.labels)
    else:
        test = _sample(frame, n_test, k, spec.balance, rng, "test", where, spec.labels)
        rest = frame.drop(index=test.index)
        train = _sample(rest, n_train, k, spec.balance, rng, "train", where, spec.labels)
    train_split, test_split = _to_split(train), _to_split(test)
    return TaskDataset(
        spec=spec,
        train=train_split,
        test=test_split,
        data_hash=data_hash(train_split, test_split),
        pool_texts=frame["text"].tolist(),
    )


def prepare_corpus(spec: CorpusSpec, *, data_dir: Path | None, source_name: str) -> list[str]:
    """Loads the general corpus as a list of non-empty documents in source order."""
    where = f"{source_name}: perplexity corpus"
    frame = run_loader(spec.source.loader, spec.source.args, data_dir=data_dir, where=where)
    if spec.text_field not in frame.columns:
        raise UserError(f"{where}: column {spec.text_field!r} not found (columns: {list(frame.columns)}); fix perplexity.text_field")
    docs = [t for t in frame[spec.text_field].tolist() if isinstance(t, str) and t.strip()]
    if not docs:
        raise UserError(f"{where}: the corpus has no non-empty text in {spec.text_field!r}; check the source")
    return docs
