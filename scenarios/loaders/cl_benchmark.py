"""Loader ``cl_benchmark``: O-LoRA's CL_Benchmark layout, tasks already posed as text.

``<data_dir>/<root>/<Task>/{train,test,labels}.json`` (``root`` defaults to
``cl_benchmark``): each split file is a JSON list of ``{"sentence": ..., "label": ...}``
records whose label is the answer string, and ``labels.json`` lists the answer set.
The frame has the columns ``sentence``, ``label`` and ``split``.
"""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd

from benchmark.core.errors import UserError
from scenarios.loaders import register_loader
from scenarios.loaders.local_files import resolve

SPLIT_FILES = ("train.json", "test.json")


def _records(path: Path) -> list[dict[str, object]]:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, ValueError) as exc:
        raise UserError(f"{path} is not a readable JSON file ({type(exc).__name__}); restore it from the CL_Benchmark release") from exc
    if not isinstance(data, list) or not all(isinstance(r, dict) and "sentence" in r and "label" in r for r in data):
        raise UserError(f"{path} must be a JSON list of {{\"sentence\", \"label\"}} records, as in O-LoRA's CL_Benchmark")
    return data


@register_loader("cl_benchmark")
def cl_benchmark(*, data_dir: Path | None, task: str, root: str = "cl_benchmark") -> pd.DataFrame:
    """Reads one task folder of the CL_Benchmark layout (train and test split, answers as labels)."""
    if data_dir is None:
        raise UserError(f"this scenario reads O-LoRA's CL_Benchmark files; pass --data-dir, the folder that holds {root}/{task}/")
    folder = resolve(str(Path(root) / task), data_dir)
    missing = [str(folder / name) for name in (*SPLIT_FILES, "labels.json") if not (folder / name).is_file()]
    if missing:
        raise UserError(f"the CL_Benchmark files {', '.join(missing)} are missing; put task {task!r} there in O-LoRA's layout, or copy the scenario file without that task")
    answers = json.loads((folder / "labels.json").read_text(encoding="utf-8"))
    parts = []
    for name in SPLIT_FILES:
        frame = pd.DataFrame(_records(folder / name), columns=["sentence", "label"]).astype({"label": str})
        unknown = sorted(set(frame["label"]) - {str(a) for a in answers})
        if unknown:
            raise UserError(f"{folder / name} has label(s) {unknown[:3]} that {folder / 'labels.json'} does not list; fix one of the two files")
        parts.append(frame.assign(split=name.removesuffix(".json")))
    return pd.concat(parts, ignore_index=True)
