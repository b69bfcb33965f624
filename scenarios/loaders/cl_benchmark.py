"""Loader ``cl_benchmark``: O-LoRA's CL_Benchmark layout, tasks already posed as text.

``<data_dir>/<root>/<Task>/{train,test,labels}.json`` (``root`` defaults to
``cl_benchmark``): each split file is a JSON list of ``{"sentence": ..., "label": ...}``
records whose label is the answer string, and ``labels.json`` lists the answer set.
The frame has the columns ``sentence``, ``label`` and ``split``.

Examples labelled ``-`` are the unlabelled ones (O-LoRA's MNLI ``test.json`` holds 131,
from GLUE's test set) and are dropped (``unlabelled: []`` keeps them). Labels are then
checked against the scenario's ``labels`` after its ``drop_labels``, like every other
source's, so a task can drop any other label too.
"""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd

from benchmark.core.errors import MissingFiles, UserError
from scenarios.loaders import register_loader
from scenarios.loaders.local_files import resolve

SPLIT_FILES = ("train.json", "test.json")
UNLABELLED = ("-",)  # how CL_Benchmark marks an example without a gold answer


def _json(path: Path) -> object:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, ValueError) as exc:
        raise UserError(f"{path} is not a readable JSON file ({type(exc).__name__}); restore it from the CL_Benchmark release") from exc


def _records(path: Path) -> list[dict[str, object]]:
    data = _json(path)
    if not isinstance(data, list) or not all(isinstance(r, dict) and "sentence" in r and "label" in r for r in data):
        raise UserError(f"{path} must be a JSON list of {{\"sentence\", \"label\"}} records, as in O-LoRA's CL_Benchmark")
    return data


def _answers(path: Path) -> list[str]:
    answers = _json(path)
    if not isinstance(answers, list) or not answers or not all(isinstance(a, str) and a.strip() for a in answers):
        raise UserError(f"{path} must be a JSON list of the task's answer strings (e.g. [\"Good\", \"Bad\"]), got {str(answers)[:40]}")
    return answers


def _check_files(folder: Path, task: str) -> None:
    names = [folder / name for name in (*SPLIT_FILES, "labels.json")]
    folders = [str(p) for p in names if p.is_dir()]
    if folders:
        raise UserError(f"{folders[0]} is a directory, not a file; put task {task!r}'s CL_Benchmark file there in its place")
    missing = [str(p) for p in names if not p.is_file()]
    if missing:
        raise MissingFiles(
            f"the CL_Benchmark files {', '.join(missing)} are missing; put task {task!r} there in O-LoRA's layout, or copy the scenario file without that task",
            missing,
        )


@register_loader("cl_benchmark")
def cl_benchmark(*, data_dir: Path | None, task: str, root: str = "cl_benchmark", unlabelled: list[str] | None = None) -> pd.DataFrame:
    """Reads one task folder of the CL_Benchmark layout (train and test split, answers as labels; unlabelled examples dropped)."""
    if data_dir is None:
        raise UserError(f"this scenario reads O-LoRA's CL_Benchmark files; pass --data-dir, the folder that holds {root}/{task}/")
    folder = resolve(str(Path(root) / task), data_dir)
    _check_files(folder, task)
    _answers(folder / "labels.json")
    dropped = set(UNLABELLED if unlabelled is None else unlabelled)
    parts = []
    for name in SPLIT_FILES:
        frame = pd.DataFrame(_records(folder / name), columns=["sentence", "label"]).astype({"label": str})
        frame = frame[~frame["label"].isin(dropped)]
        if frame.empty:
            raise UserError(f"{folder / name} holds no labelled example; a task needs both splits, so restore the file from the CL_Benchmark release")
        parts.append(frame.assign(split=name.removesuffix(".json")))
    return pd.concat(parts, ignore_index=True)
