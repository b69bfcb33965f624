"""Loader ``superni``: a task file of Super-NaturalInstructions (Wang et al. 2022), the source of CITB and InsCL streams.

``<data_dir>/<root>/<task>.json`` (``root`` defaults to ``natural-instructions/tasks``,
the layout of the allenai/natural-instructions repository) is one JSON object with,
among others, ``Definition`` (a list of texts), ``Positive Examples`` (``{input,
output, explanation}``) and ``Instances`` (``{id, input, output: [...]}``: every output
is a reference). The frame has ``text`` (the prompt: the definition, the first
``positive_examples`` positive examples, then the instance, in the layout of
Tk-Instruct's encoder), ``input`` (the instance alone), ``references`` (the list of
outputs) and ``id``. The task file has no train/test split: the scenario's seeded
split draws both from its instances, as CITB samples them.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pandas as pd

from benchmark.core.errors import MissingFiles, UserError
from scenarios.loaders import register_loader
from scenarios.loaders.local_files import resolve

FIX = "restore it from the natural-instructions release"


def _task_data(path: Path) -> dict[str, Any]:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError) as exc:
        raise UserError(f"{path} cannot be read ({type(exc).__name__}); {FIX}") from exc
    except ValueError as exc:
        raise UserError(f"{path} is not valid JSON (line {getattr(exc, 'lineno', None)}: {getattr(exc, 'msg', exc)}); {FIX}") from exc
    if not isinstance(data, dict):
        raise UserError(f"{path} must be a SuperNI task object (Definition, Positive Examples, Instances); it holds a {type(data).__name__}")
    definition, examples, instances = data.get("Definition"), data.get("Positive Examples", []), data.get("Instances")
    if not isinstance(definition, list) or not all(isinstance(d, str) for d in definition):
        raise UserError(f"{path}: 'Definition' must be a list of texts, as in SuperNI's task files; {FIX}")
    if not isinstance(examples, list) or not all(isinstance(e, dict) and isinstance(e.get("input"), str) and isinstance(e.get("output"), str) for e in examples):
        raise UserError(f"{path}: 'Positive Examples' must be a list of {{\"input\": text, \"output\": text}} objects; {FIX}")
    if not isinstance(instances, list) or not instances:
        raise UserError(f"{path}: 'Instances' must be a non-empty list; {FIX}")
    for k, instance in enumerate(instances):
        outputs = instance.get("output") if isinstance(instance, dict) else None
        if not isinstance(instance.get("input") if isinstance(instance, dict) else None, str) or not isinstance(outputs, list) or not outputs:
            raise UserError(f"{path}: instance {k} is not an {{\"input\": text, \"output\": [texts]}} object ({str(instance)[:60]}); fix or remove it")
    return data


def superni_prompt(definition: list[str], examples: list[dict[str, str]], instance_input: str) -> str:
    """The prompt of one instance: definition, positive examples, then the instance (Tk-Instruct's layout)."""
    parts = [f"Definition: {' '.join(d.strip() for d in definition)}"] if definition else []
    for k, example in enumerate(examples, start=1):
        parts.append(f"Positive Example {k} -\nInput: {example['input'].strip()}\nOutput: {example['output'].strip()}")
    parts.append(f"Now complete the following example -\nInput: {instance_input.strip()}\nOutput:")
    return "\n\n".join(parts)


@register_loader("superni")
def superni(*, data_dir: Path | None, task: str, root: str = "natural-instructions/tasks", positive_examples: int = 0) -> pd.DataFrame:
    """Reads one SuperNI task file: prompts with its definition and ``positive_examples`` demonstrations; every output a reference."""
    if data_dir is None:
        raise UserError(f"this scenario reads Super-NaturalInstructions task files; pass --data-dir, the folder that holds {root}/{task}.json")
    if positive_examples < 0:
        raise UserError(f"superni task {task!r}: positive_examples must be 0 or more, got {positive_examples}")
    path = resolve(str(Path(root) / f"{task}.json"), data_dir)
    if not path.is_file():
        raise MissingFiles(f"the SuperNI task file {path} is missing; put task {task!r} there (tasks/ of allenai/natural-instructions)", [str(path)])
    data = _task_data(path)
    shown = data.get("Positive Examples", [])[:positive_examples]
    rows = [
        {"text": superni_prompt(data["Definition"], shown, i["input"]), "input": i["input"], "references": list(i["output"]), "id": i.get("id", str(k))}
        for k, i in enumerate(data["Instances"])
    ]
    return pd.DataFrame(rows, columns=["text", "input", "references", "id"])
