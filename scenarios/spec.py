"""The scenario file format: a versioned YAML description of an ordered task stream.

A scenario names its tasks, where each task's data comes from (a named loader
function and its arguments), which fields hold text and label, the label set, the
split sizes and the metric, the published task orders, and the general corpus used
for perplexity. The dataclass fields below are exactly the YAML keys.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from benchmark.errors import UserError
from benchmark.typed_yaml import from_mapping, read_yaml_file

NAME_PATTERN = re.compile(r"^[A-Za-z][A-Za-z0-9_-]*$")


@dataclass
class SourceSpec:
    """Where data comes from: a registered loader and the keyword arguments it takes."""

    loader: str
    args: dict[str, Any] = field(default_factory=dict)


@dataclass
class TaskSpec:
    """One classification task of a scenario."""

    name: str
    source: SourceSpec
    labels: list[str]
    text_field: str = "text"
    text_pair_field: str | None = None
    label_field: str = "label"
    label_map: dict[str, str] = field(default_factory=dict)
    drop_labels: list[str] = field(default_factory=list)
    drop_empty: bool = False
    train_size: int = 1000
    test_size: int = 500
    balance: bool = True
    max_length: int = 128
    metric: Literal["accuracy"] = "accuracy"
    description: str = ""


@dataclass
class CorpusSpec:
    """The held-out general-language corpus on which perplexity is measured."""

    source: SourceSpec
    text_field: str = "text"
    description: str = ""


@dataclass
class ScenarioSpec:
    """A named, versioned, ordered stream of tasks.

    ``train`` and ``eval`` are the scenario's recommended budget (TrainConfig and
    EvalConfig fields); a preset, a config file and flags all override them.
    """

    name: str
    version: int
    tasks: list[TaskSpec]
    orders: list[list[str]]
    description: str = ""
    paper: str = ""
    perplexity: CorpusSpec | None = None
    train: dict[str, Any] = field(default_factory=dict)
    eval: dict[str, Any] = field(default_factory=dict)
    path: str = ""

    def task(self, name: str) -> TaskSpec:
        """The task called ``name``."""
        for task in self.tasks:
            if task.name == name:
                return task
        raise KeyError(name)

    def ordered_tasks(self, order: int) -> list[TaskSpec]:
        """The tasks in published order ``order`` (1-based)."""
        if not 1 <= order <= len(self.orders):
            raise UserError(
                f"scenario {self.name!r} has {len(self.orders)} task order(s), so --order {order} does not exist; "
                f"use a value from 1 to {len(self.orders)}"
            )
        return [self.task(name) for name in self.orders[order - 1]]


def _validate(spec: ScenarioSpec, source: str) -> None:
    if not NAME_PATTERN.match(spec.name):
        raise UserError(f"{source}: scenario name {spec.name!r} must start with a letter and use only letters, digits, '_' and '-'")
    if not spec.tasks:
        raise UserError(f"{source}: 'tasks' is empty; a scenario needs at least one task")
    names = [t.name for t in spec.tasks]
    for task in spec.tasks:
        where = f"{source}: task {task.name!r}"
        if not NAME_PATTERN.match(task.name):
            raise UserError(f"{where}: the name must start with a letter and use only letters, digits, '_' and '-'")
        if names.count(task.name) > 1:
            raise UserError(f"{where} is defined twice; give each task a unique name")
        if len(task.labels) < 2:
            raise UserError(f"{where}: 'labels' must list at least two classes, got {task.labels}")
        if len(set(task.labels)) != len(task.labels):
            raise UserError(f"{where}: 'labels' lists a class twice ({task.labels}); list each class once")
        bad_targets = sorted(set(task.label_map.values()) - set(task.labels))
        if bad_targets:
            raise UserError(f"{where}: label_map maps to {bad_targets}, which are not in labels {task.labels}; add them to labels")
        for key in ("train_size", "test_size", "max_length"):
            if getattr(task, key) < 1:
                raise UserError(f"{where}: '{key}' must be at least 1, got {getattr(task, key)}")
    if not spec.orders:
        raise UserError(f"{source}: 'orders' is empty; list at least one task order")
    for k, order in enumerate(spec.orders, 1):
        unknown = [n for n in order if n not in names]
        if unknown:
            raise UserError(f"{source}: order {k} names unknown task(s) {unknown}; use names from 'tasks' ({names})")
        if len(set(order)) != len(order):
            raise UserError(f"{source}: order {k} lists a task twice ({order}); list each task once")


def parse_scenario(data: Any, *, source: str, path: str = "") -> ScenarioSpec:
    """Validates a scenario mapping (already parsed from YAML) into a ScenarioSpec."""
    if isinstance(data, dict):
        data = {**data, "path": path}
        # YAML turns `0: negative` into an int key; label maps compare as strings.
        for task in data.get("tasks") or []:
            if isinstance(task, dict) and isinstance(task.get("label_map"), dict):
                task["label_map"] = {str(k): str(v) for k, v in task["label_map"].items()}
            if isinstance(task, dict) and isinstance(task.get("labels"), list):
                task["labels"] = [str(v) for v in task["labels"]]
    spec = from_mapping(ScenarioSpec, data, source=source)
    _validate(spec, source)
    return spec


def read_scenario_file(path: str | Path) -> ScenarioSpec:
    """Reads and validates one scenario YAML file."""
    data = read_yaml_file(path, what="scenario file", missing_hint="check the path given to --scenario")
    return parse_scenario(data, source=f"scenario file {str(path)!r}", path=str(path))
