"""From a task's raw frame to a seeded, class-balanced, de-duplicated train/test split.

Every check a user's data can fail (missing column, label outside the label set,
empty text, too few examples, a source that is gone) is a one-sentence UserError
naming the task.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from benchmark.core.hashing import digest, name_number
from benchmark.core.errors import MissingFiles, UserError
from scenarios.loaders import run_loader
from scenarios.fields import FieldMap, field_map, joined_text
from scenarios.free_text import clean_free_text, free_text_parts
from scenarios.spec import CorpusSpec, SourceSpec, TaskSpec
from scenarios.splits import TextSplit


@dataclass
class TaskDataset:
    """One task's data for one seed.

    Attributes:
        data_hash: SHA-256 of exactly the train and test examples used.
        source_hash: SHA-256 of everything that was loaded (after cleaning), whatever was sampled.
        pool_texts: Every text of the cleaned source, references included (for data-built tokenizers).
    """

    spec: TaskSpec
    train: TextSplit
    test: TextSplit
    data_hash: str
    source_hash: str
    pool_texts: list[str]


def class_quotas(size: int, n_classes: int) -> list[int]:
    """Splits ``size`` over classes as evenly as possible (the first classes take the remainder)."""
    return [size // n_classes + (1 if i < size % n_classes else 0) for i in range(n_classes)]


def _normalise(text: str) -> str:
    return " ".join(text.lower().split())


def _clean_frame(frame: pd.DataFrame, spec: TaskSpec, fields: FieldMap, where: str) -> pd.DataFrame:
    """Selects and checks the text/label columns and maps labels to class indices."""
    if fields.answer is not None:
        return clean_free_text(frame, spec, fields, where)
    needed = fields.text + [fields.label] + (fields.pair or [])
    missing = [c for c in needed if c not in frame.columns]
    if missing:
        raise UserError(
            f"{where}: column(s) {missing} not found in the loaded data (columns: {[str(c) for c in frame.columns]}); "
            "fix text_field/label_field in the scenario"
        )
    if frame[fields.label].isna().any():
        raise UserError(f"{where}: {int(frame[fields.label].isna().sum())} row(s) have no label in {fields.label!r}; remove them")
    out = pd.DataFrame({"raw_label": frame[fields.label].map(str).to_numpy()})
    keep = np.ones(len(frame), dtype=bool)
    for key, columns in (("text", fields.text), ("pair", fields.pair)):
        if not columns:
            continue
        values = joined_text(frame, columns).to_numpy()
        bad = [i for i, v in enumerate(values) if not v]
        if bad and spec.drop_empty:
            keep[bad] = False
        elif bad:
            raise UserError(
                f"{where}: {len(bad)} row(s) have an empty or non-text value in {'+'.join(columns)!r} (first at row {bad[0]}); "
                "remove those rows from the source or set drop_empty: true for the task"
            )
        out[key] = values
    if "split" in frame.columns:
        out["split"] = frame["split"].map(str).to_numpy()
    out = out[keep]
    out = out[~out["raw_label"].isin(spec.drop_labels)]
    names = out["raw_label"].map(lambda raw: fields.label_map.get(raw, raw))
    unknown = sorted(set(names) - set(spec.labels))
    if unknown:
        shown = ", ".join(repr(u) for u in unknown[:5]) + (" ..." if len(unknown) > 5 else "")
        raise UserError(
            f"{where}: label(s) {shown} in {fields.label!r} are not in labels {spec.labels}; "
            "add them to labels or label_map, or list them in drop_labels"
        )
    out["label"] = names.map({name: i for i, name in enumerate(spec.labels)}).astype(int)
    return out.drop(columns="raw_label").reset_index(drop=True)


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


@dataclass(frozen=True)
class SplitSize:
    """How many examples a split takes: a total (balanced or not) or up to k per class."""

    total: int
    per_class: int | None
    balance: bool

    def quotas(self, pool: pd.DataFrame, n_classes: int) -> list[int] | None:
        """Examples per class (None: an unbalanced random sample of ``total``)."""
        if self.per_class is not None:
            counts = pool["label"].value_counts()
            return [min(self.per_class, int(counts.get(c, 0))) for c in range(n_classes)]
        return class_quotas(self.total, n_classes) if self.balance else None


def _sample(pool: pd.DataFrame, size: SplitSize, rng: np.random.Generator, what: str, where: str, labels: list[str]) -> pd.DataFrame:
    quotas = size.quotas(pool, len(labels))
    if quotas is None:
        if len(pool) < size.total:
            raise UserError(f"{where}: the {what} split needs {size.total} examples but only {len(pool)} are available; lower its size")
        return pool.iloc[rng.permutation(len(pool))[: size.total]]
    picked = []
    for label, quota in enumerate(quotas):
        members = pool[pool["label"] == label]
        if len(members) < quota:
            raise UserError(
                f"{where}: class {labels[label]!r} has {len(members)} example(s) for the {what} split but needs {quota}; "
                "lower the split size (train_size/test_size or --train-size/--test-size) or set balance: false"
            )
        picked.append(members.iloc[rng.permutation(len(members))[:quota]])
    chosen = pd.concat(picked)
    if chosen.empty:
        raise UserError(f"{where}: the {what} split is empty; check the source and the split sizes")
    return chosen.iloc[rng.permutation(len(chosen))]


def _to_split(frame: pd.DataFrame) -> TextSplit:
    return TextSplit(
        texts=frame["text"].tolist(),
        labels=[int(v) for v in frame["label"]],
        pairs=frame["pair"].tolist() if "pair" in frame.columns else None,
        references=[list(r) for r in frame["references"]] if "references" in frame.columns else None,
        sources=frame["source"].tolist() if "source" in frame.columns else None,
    )


def _hash_rows(rows: list[tuple[object, ...]]) -> str:
    return digest(*(json.dumps(row, ensure_ascii=False) + "\n" for row in rows))


def data_hash(train: TextSplit, test: TextSplit) -> str:
    """SHA-256 of exactly the examples a run trains and tests on (order included)."""
    rows = []
    for name, split in (("train", train), ("test", test)):
        pairs = split.pairs or [None] * len(split)
        rows.extend([name, label, text, pair, *free_text_parts(split, k)] for k, (text, pair, label) in enumerate(zip(split.texts, pairs, split.labels)))
    return _hash_rows(rows)


def task_rng(seed: int, task_name: str) -> np.random.Generator:
    """The split generator of one task: depends on the seed and the task, not on the order."""
    return np.random.default_rng([seed, name_number(task_name)])


def describe_local(source: SourceSpec | None) -> str:
    """Where a local source expects its files, for messages."""
    if source is None:
        return ""
    files = source.args.get("files") or {}
    names = list(files.values()) if isinstance(files, dict) else []
    if source.args.get("path"):
        names.append(str(source.args["path"]))
    return " and ".join(names)


def load_frame(spec: TaskSpec | CorpusSpec, *, data_dir: Path | None, where: str) -> pd.DataFrame:
    """Runs the source in effect (local with --data-dir, else default) with errors that name the way out."""
    source = spec.source_for(data_dir)
    local_hint = describe_local(spec.local) if spec.local is not None and source is not spec.local else ""
    if source.unavailable:
        fix = f"put {local_hint} under a folder and pass it as --data-dir" if local_hint else "point the task at local files with a 'local' source and --data-dir"
        raise UserError(f"{where}: its {source.loader} source {source.args.get('dataset', source.args)!r} is no longer available ({source.unavailable}); {fix}")
    try:
        return run_loader(source.loader, source.args, data_dir=data_dir, where=where)
    except UserError as exc:
        if local_hint:
            message = f"{exc} (offline, put {local_hint} under a folder and pass it as --data-dir)"
            raise (MissingFiles(message, exc.paths) if isinstance(exc, MissingFiles) else UserError(message)) from exc
        raise


def prepare_task(
    spec: TaskSpec, *, seed: int, data_dir: Path | None, source_name: str,
    train_size: int | None = None, test_size: int | None = None,
) -> TaskDataset:
    """Loads, checks, de-duplicates and splits one task for ``seed``.

    ``train_size``/``test_size`` (from the command line) override the scenario's sizes,
    per-class sizes included.
    """
    where = f"{source_name}: task {spec.name!r}"
    raw = load_frame(spec, data_dir=data_dir, where=where)
    frame = _deduplicate(_clean_frame(raw, spec, field_map(spec, spec.source_for(data_dir)), where))
    if frame.empty:
        raise UserError(f"{where}: no examples are left after dropping labels and duplicates; check the source and drop_labels")
    if "split" in raw.columns and set(raw["split"]) >= {"train", "test"}:
        emptied = [s for s in ("train", "test") if not (frame["split"] == s).any()]
        if emptied:  # never split the other one into both: that would train on test examples
            raise UserError(
                f"{where}: no {emptied[0]} example is left after dropping labels and duplicates, and the source's own splits are kept "
                f"apart; check drop_labels and the source's {emptied[0]} split"
            )
    balance = spec.balance and not spec.free_text  # a free-text task has no classes to balance
    train = SplitSize(train_size or spec.train_size, None if train_size or spec.free_text else spec.train_per_class, balance)
    test = SplitSize(test_size or spec.test_size, None if test_size or spec.free_text else spec.test_per_class, balance)
    rng = task_rng(seed, spec.name)
    if "split" in frame.columns and set(frame["split"]) >= {"train", "test"}:
        test_frame = _sample(frame[frame["split"] == "test"], test, rng, "test", where, spec.labels)
        train_frame = _sample(frame[frame["split"] == "train"], train, rng, "train", where, spec.labels)
    else:
        test_frame = _sample(frame, test, rng, "test", where, spec.labels)
        train_frame = _sample(frame.drop(index=test_frame.index), train, rng, "train", where, spec.labels)
    train_split, test_split = _to_split(train_frame), _to_split(test_frame)
    pairs = frame["pair"].tolist() if "pair" in frame.columns else [None] * len(frame)
    free_text = [frame[c].tolist() for c in ("references", "source") if c in frame.columns]  # only a free-text task has them
    loaded = [list(row) for row in zip(frame["text"].tolist(), pairs, frame["label"].tolist(), *free_text)]
    return TaskDataset(
        spec=spec, train=train_split, test=test_split, data_hash=data_hash(train_split, test_split),
        source_hash=_hash_rows(loaded),
        pool_texts=frame["text"].tolist() + ([r for refs in frame["references"] for r in refs] if spec.free_text else []),
    )


def prepare_corpus(spec: CorpusSpec, *, data_dir: Path | None, source_name: str) -> list[str]:
    """Loads the general corpus as a list of non-empty documents in source order."""
    where = f"{source_name}: perplexity corpus"
    frame = load_frame(spec, data_dir=data_dir, where=where)
    if spec.text_field not in frame.columns:
        raise UserError(f"{where}: column {spec.text_field!r} not found (columns: {list(frame.columns)}); fix perplexity.text_field")
    docs = [t for t in frame[spec.text_field].tolist() if isinstance(t, str) and t.strip()]
    if not docs:
        raise UserError(f"{where}: the corpus has no non-empty text in {spec.text_field!r}; check the source")
    return docs
