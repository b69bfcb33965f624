"""Loader ``trace``: TRACE's local-dataset layout (Wang et al. 2023), every task a prompt and a free-text answer.

``<data_dir>/<root>/<Task>/{train,eval,test}.json`` (``root`` defaults to ``TRACE``):
each file is a JSON list of ``{"prompt": ..., "answer": ...}`` records, the prompt
already holding TRACE's instruction. The frame has the columns ``prompt``, ``answer``
and ``split`` (``train``/``test``); ``eval.json`` is TRACE's validation split, byte for
byte its test split in the released data, and is not read. A malformed file is named
with the record that breaks it.
"""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd

from benchmark.core.errors import MissingFiles, UserError
from scenarios.loaders import register_loader
from scenarios.loaders.local_files import resolve

SPLIT_FILES = ("train.json", "test.json")


def trace_files(data_dir: Path, root: str, task: str) -> list[Path]:
    """The split files task ``task`` reads (whether or not they exist)."""
    folder = resolve(str(Path(root) / task), data_dir)
    return [folder / name for name in SPLIT_FILES]


def missing_trace_files(data_dir: Path, root: str, task: str) -> list[str]:
    """The split files of ``task`` that are not there."""
    return [str(p) for p in trace_files(data_dir, root, task) if not p.is_file()]


def _records(path: Path) -> list[dict[str, str]]:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError) as exc:
        raise UserError(f"{path} cannot be read ({type(exc).__name__}); restore it from the TRACE release") from exc
    except ValueError as exc:
        line = getattr(exc, "lineno", None)
        raise UserError(f"{path} is not valid JSON (line {line}: {getattr(exc, 'msg', exc)}); restore it from the TRACE release") from exc
    if not isinstance(data, list):
        raise UserError(f"{path} must be a JSON list of {{\"prompt\", \"answer\"}} records, as in TRACE's layout; it holds a {type(data).__name__}")
    for k, record in enumerate(data):
        if not isinstance(record, dict) or not isinstance(record.get("prompt"), str) or not isinstance(record.get("answer"), (str, list)):
            raise UserError(f"{path}: record {k} is not a {{\"prompt\": text, \"answer\": text}} object ({str(record)[:60]}); fix or remove it")
    return data


@register_loader("trace")
def trace(*, data_dir: Path | None, task: str, root: str = "TRACE") -> pd.DataFrame:
    """Reads one task folder of TRACE's layout (train and test split; prompts hold the instruction, answers are free text)."""
    if data_dir is None:
        raise UserError(f"this scenario reads TRACE's files; pass --data-dir, the folder that holds {root}/{task}/")
    missing = missing_trace_files(data_dir, root, task)
    if missing:
        raise MissingFiles(f"the TRACE files {', '.join(missing)} are missing; put task {task!r} there in TRACE's layout", missing)
    parts = []
    for path in trace_files(data_dir, root, task):
        records = _records(path)
        if not records:
            raise UserError(f"{path} holds no example; a task needs both splits, so restore the file from the TRACE release")
        parts.append(pd.DataFrame(records, columns=["prompt", "answer"]).assign(split=path.stem))
    return pd.concat(parts, ignore_index=True)
