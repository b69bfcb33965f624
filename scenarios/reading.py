"""Reading a scenario: YAML data -> a validated :class:`scenarios.spec.ScenarioSpec`.

The one direction of the scenario layer: this module reads and checks a spec (its
structure in :mod:`scenarios.spec`, its prompts in :mod:`scenarios.prompts`); neither
of those imports it, nor each other back.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from benchmark.core.errors import UserError
from benchmark.core.typed_yaml import from_mapping, read_yaml_file
from scenarios.prompts import validate_prompts
from scenarios.spec import TASK_LIBRARY, ScenarioSpec, validate_structure


def expand_task(entry: Any, *, source: str, base_dir: Path | None) -> Any:
    """Resolves ``use: NAME`` (a task file in scenarios/configs/tasks, or a path relative to the scenario).

    The keys next to ``use`` override the used definition, so a scenario states only
    what it changes (sizes, name) and every dataset is described once.
    """
    if not isinstance(entry, dict) or "use" not in entry:
        return entry
    ref = str(entry["use"])
    candidate = (base_dir / ref) if base_dir is not None and ref.endswith((".yaml", ".yml")) else TASK_LIBRARY / f"{ref}.yaml"
    if not candidate.is_file():
        known = sorted(p.stem for p in TASK_LIBRARY.glob("*.yaml"))
        raise UserError(f"{source}: task 'use: {ref}' names no task definition ({candidate}); use one of {known} or a .yaml path next to the scenario")
    base = read_yaml_file(candidate, what="task file", missing_hint="check the 'use' entry")
    if not isinstance(base, dict):
        raise UserError(f"task file {str(candidate)!r} must hold one task mapping")
    return {**base, **{k: v for k, v in entry.items() if k != "use"}}


def parse_scenario(data: Any, *, source: str, path: str = "") -> ScenarioSpec:
    """Validates a scenario mapping (already parsed from YAML) into a ScenarioSpec."""
    if isinstance(data, dict):
        base_dir = Path(path).parent if path else None
        data = {**data, "path": path}
        if isinstance(data.get("tasks"), list):
            data["tasks"] = [expand_task(t, source=source, base_dir=base_dir) for t in data["tasks"]]
        # YAML turns `0: negative` into an int key; label maps compare as strings.
        for task in data.get("tasks") or []:
            if not isinstance(task, dict):
                continue
            for holder in [task] + [task.get(k) for k in ("source", "local") if isinstance(task.get(k), dict)]:
                if isinstance(holder.get("label_map"), dict):
                    holder["label_map"] = {str(k): str(v) for k, v in holder["label_map"].items()}
            if isinstance(task.get("answers"), dict):
                empty = [str(k) for k, v in task["answers"].items() if v is None]
                if empty:  # str(None) would train the literal answer "None"
                    raise UserError(f"{source}: task {task.get('name')!r}: answers.{empty[0]} is null; give it an answer string or leave it out (the label is the default)")
                task["answers"] = {str(k): str(v) for k, v in task["answers"].items()}
            if isinstance(task.get("labels"), list):
                task["labels"] = [str(v) for v in task["labels"]]
    spec = from_mapping(ScenarioSpec, data, source=source)
    validate_structure(spec, source)
    validate_prompts(spec, source)
    return spec


def read_scenario_file(path: str | Path) -> ScenarioSpec:
    """Reads and validates one scenario YAML file."""
    data = read_yaml_file(path, what="scenario file", missing_hint="check the path given to --scenario")
    return parse_scenario(data, source=f"scenario file {str(path)!r}", path=str(path))
