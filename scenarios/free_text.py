"""A free-text task's examples: the text, its references (one or more target texts) and, for SARI, its source.

A reference is a text or a list of texts (SuperNI's several outputs); the first is the
training target and every one counts when an output is scored. Every label is 0: a
free-text task has no classes, so its splits are drawn without class balance.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from benchmark.core.errors import UserError
from scenarios.fields import FieldMap, joined_text
from scenarios.splits import TextSplit
from scenarios.spec import TaskSpec


def _references(value: object) -> list[str] | None:
    """One example's references: a text, or a list of texts (None: missing, empty or not text)."""
    values = value if isinstance(value, (list, tuple, np.ndarray)) else [value]
    texts = [v.strip() for v in values if isinstance(v, str)]
    return texts if texts and len(texts) == len(values) and all(texts) else None


def _text_column(frame: pd.DataFrame, columns: list[str], spec: TaskSpec, where: str, what: str) -> tuple[np.ndarray, np.ndarray]:
    """The joined text of ``columns`` and which rows have one (a row without text is refused unless drop_empty)."""
    values = joined_text(frame, columns).to_numpy()
    bad = [i for i, v in enumerate(values) if not v]
    if bad and not spec.drop_empty:
        raise UserError(
            f"{where}: {len(bad)} row(s) have an empty or non-text {what} in {'+'.join(columns)!r} (first at row {bad[0]}); "
            "remove those rows from the source or set drop_empty: true for the task"
        )
    return values, np.array([bool(v) for v in values], dtype=bool)


def clean_free_text(frame: pd.DataFrame, spec: TaskSpec, fields: FieldMap, where: str) -> pd.DataFrame:
    """The text, references (and source) columns of a free-text task; every label is 0."""
    needed = fields.text + (fields.pair or []) + [fields.answer] + ([fields.source] if fields.source else [])
    missing = [c for c in needed if c not in frame.columns]
    if missing:
        raise UserError(
            f"{where}: column(s) {missing} not found in the loaded data (columns: {[str(c) for c in frame.columns]}); "
            "fix text_field/answer_field/source_field in the scenario"
        )
    references = [_references(v) for v in frame[fields.answer].tolist()]
    empty = [i for i, r in enumerate(references) if r is None]
    if empty:
        raise UserError(
            f"{where}: {len(empty)} row(s) have an empty or non-text reference in {fields.answer!r} (first at row {empty[0]}); "
            "give every example a non-empty answer"
        )
    out = pd.DataFrame({"label": np.zeros(len(frame), dtype=int), "references": references})
    keep = np.ones(len(frame), dtype=bool)
    for key, columns in (("text", fields.text), ("pair", fields.pair), ("source", [fields.source] if fields.source else None)):
        if columns:
            out[key], present = _text_column(frame, columns, spec, where, "text" if key != "source" else "source")
            keep &= present
    if "split" in frame.columns:
        out["split"] = frame["split"].map(str).to_numpy()
    return out[keep].reset_index(drop=True)


def free_text_parts(split: TextSplit, k: int) -> list[object]:
    """Example ``k``'s references and source for its hash (nothing for a classification example, so those hashes hold)."""
    parts: list[object] = []
    if split.references is not None:
        parts.append(split.references[k])
    if split.sources is not None:
        parts.append(split.sources[k])
    return parts


