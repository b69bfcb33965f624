"""Which columns of a loaded source hold a task's text, label or answer, and how a row's text is read from them."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from scenarios.spec import Fields, SourceSpec, TaskSpec


@dataclass(frozen=True)
class FieldMap:
    """The columns and label map in effect for the source being read."""

    text: list[str]
    pair: list[str] | None
    label: str
    label_map: dict[str, str]
    answer: str | None = None
    source: str | None = None


def as_list(fields: Fields | None) -> list[str] | None:
    return None if fields is None else [fields] if isinstance(fields, str) else list(fields)


def field_map(task: TaskSpec, source: SourceSpec) -> FieldMap:
    """The task's fields, with the source's overrides applied."""
    return FieldMap(
        text=as_list(source.text_field if source.text_field is not None else task.text_field) or [],
        pair=as_list(source.text_pair_field if source.text_pair_field is not None else task.text_pair_field),
        label=source.label_field or task.label_field,
        label_map=source.label_map if source.label_map is not None else task.label_map,
        answer=task.answer_field, source=task.source_field,
    )


def joined_text(frame: pd.DataFrame, columns: list[str]) -> pd.Series:
    """The columns as text, joined with a space (missing values become empty)."""
    parts = [frame[c].map(lambda v: v.strip() if isinstance(v, str) else "" if v is None or (isinstance(v, float) and np.isnan(v)) else str(v)) for c in columns]
    joined = parts[0]
    for part in parts[1:]:
        joined = joined.str.cat(part, sep=" ").str.strip()
    return joined


