"""The scenario file format: a versioned YAML description of an ordered task stream.

A scenario names its tasks, where each task's data comes from (a named loader
function and its arguments), which fields hold text and label, the label set, the
split sizes and the metric, the published task orders, and the general corpus used
for perplexity. The dataclass fields below are exactly the YAML keys.
"""

from __future__ import annotations

import itertools
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from benchmark.core.errors import UserError

NAME_PATTERN = re.compile(r"^[A-Za-z][A-Za-z0-9_-]*$")
TASK_NAME_PATTERN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]*$")  # a task may start with a digit, as TRACE's 20Minuten does
MAX_NAME_LENGTH = 64  # scenario and task names become parts of file names, which the OS caps at 255 bytes
TASK_LIBRARY = Path(__file__).resolve().parent / "configs" / "tasks"


Fields = str | list[str]


@dataclass
class SourceSpec:
    """Where data comes from: a registered loader and its keyword arguments.

    A source may override the task's field names and label map (a hub dataset and
    its local CSV copy name their columns differently). ``unavailable`` says why a
    source can no longer be loaded (e.g. taken down from the hub); using it is an error
    that points at the task's local alternative.
    """

    loader: str
    args: dict[str, Any] = field(default_factory=dict)
    text_field: Fields | None = None
    text_pair_field: Fields | None = None
    label_field: str | None = None
    label_map: dict[str, str] | None = None
    unavailable: str | None = None


@dataclass
class TaskSpec:
    """One classification task of a scenario.

    ``source`` is used by default (typically the hub); ``local`` replaces it when
    ``--data-dir`` is given. A list of text fields is joined with spaces. Sizes are
    totals split evenly over classes (``train_size``/``test_size``), or, when
    ``train_per_class``/``test_per_class`` are set, up to that many per class
    (fewer where a class has fewer, as with ``select_k_per_class`` in the papers).

    In the text formulation a task is posed by ``prompt`` (a template with ``{text}``
    and, for pairs, ``{text_pair}``; default: the scenario's), answered by the strings
    in ``answers`` (label -> answer; default: the label itself) and optionally led by an
    ``instruction`` (see :mod:`scenarios.prompts`).

    A free-text task gives ``answer_field`` (each example's target text, or a list of
    references) instead of ``labels``, and a ``metric`` (an answer metric:
    ``exact_match``, ``accuracy``, ``rouge_l``, ``edit_similarity``, ``sari``, ``bleu``,
    ``numeric`` or a plug-in's); ``sari`` also needs ``source_field``, the text the
    output simplifies. ``answer_pattern`` (a regular expression whose first group is the
    answer) is applied to an output before it is scored, ``stop`` strings end an output,
    and ``max_new_tokens`` caps it (default: the longest training answer plus a margin).
    Only ``--formulation generate`` poses free-text tasks.
    """

    name: str
    source: SourceSpec
    labels: list[str] = field(default_factory=list)
    local: SourceSpec | None = None
    text_field: Fields = "text"
    text_pair_field: Fields | None = None
    label_field: str = "label"
    label_map: dict[str, str] = field(default_factory=dict)
    drop_labels: list[str] = field(default_factory=list)
    drop_empty: bool = False
    train_size: int = 1000
    test_size: int = 500
    train_per_class: int | None = None
    test_per_class: int | None = None
    balance: bool = True
    max_length: int = 128
    metric: str = "accuracy"
    description: str = ""
    prompt: str | None = None
    answers: dict[str, str] = field(default_factory=dict)
    instruction: str | None = None
    answer_field: str | None = None
    source_field: str | None = None
    answer_pattern: str | None = None
    stop: list[str] = field(default_factory=list)
    max_new_tokens: int | None = None
    correct_at: float = 1.0
    truncation_side: Literal["right", "left"] = "right"

    @property
    def free_text(self) -> bool:
        """Whether the task is answered in free text (``answer_field``) rather than by one of its ``labels``."""
        return self.answer_field is not None

    def source_for(self, data_dir: object) -> SourceSpec:
        """The local source when a data directory is given and one is defined, else the default source."""
        return self.local if data_dir is not None and self.local is not None else self.source


@dataclass
class CorpusSpec:
    """The held-out general-language corpus on which perplexity is measured."""

    source: SourceSpec
    local: SourceSpec | None = None
    text_field: str = "text"
    description: str = ""

    def source_for(self, data_dir: object) -> SourceSpec:
        """The local source when a data directory is given and one is defined, else the default source."""
        return self.local if data_dir is not None and self.local is not None else self.source


@dataclass
class ScenarioSpec:
    """A named, versioned, ordered stream of tasks.

    ``train`` and ``eval`` are the scenario's recommended budget (TrainConfig and
    EvalConfig fields), and ``seeds`` the seeds its headline needs to be read with its
    spread; a preset, a config file and flags all override them. ``prompt`` and
    ``instruction`` are the defaults of its tasks in the text formulation, and
    ``prompt_style`` how prompts reach the model (``chat``: the tokenizer's chat
    template, for instruct models). With
    ``grid: true`` the orders are every ordered pair of distinct tasks (intermediate
    task, then target task), in the order the tasks are listed. ``formulation`` is how its
    tasks are posed unless the user says otherwise (``generate`` for free-text tasks).
    """

    name: str
    version: int
    tasks: list[TaskSpec]
    orders: list[list[str]] = field(default_factory=list)
    grid: bool = False
    description: str = ""
    paper: str = ""
    perplexity: CorpusSpec | None = None
    train: dict[str, Any] = field(default_factory=dict)
    eval: dict[str, Any] = field(default_factory=dict)
    seeds: list[int] | None = None
    prompt: str | None = None
    instruction: str | None = None
    prompt_style: Literal["plain", "chat"] = "plain"
    formulation: str | None = None
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


def validate_structure(spec: ScenarioSpec, source: str) -> None:
    if not NAME_PATTERN.match(spec.name):
        raise UserError(f"{source}: scenario name {spec.name!r} must start with a letter and use only letters, digits, '_' and '-'")
    if len(spec.name) > MAX_NAME_LENGTH:
        raise UserError(f"{source}: scenario name is {len(spec.name)} characters long; shorten it to at most {MAX_NAME_LENGTH} (it names the result files)")
    if not spec.tasks:
        raise UserError(f"{source}: 'tasks' is empty; a scenario needs at least one task")
    names = [t.name for t in spec.tasks]
    for task in spec.tasks:
        where = f"{source}: task {task.name!r}"
        if not TASK_NAME_PATTERN.match(task.name) or len(task.name) > MAX_NAME_LENGTH:
            raise UserError(
                f"{where}: the name must start with a letter or digit, use only letters, digits, '_' and '-', "
                f"and be at most {MAX_NAME_LENGTH} characters long"
            )
        if names.count(task.name) > 1:
            raise UserError(f"{where} is defined twice; give each task a unique name")
        check_generation_settings(task, where)
        if task.free_text:
            check_free_text(task, where)
            continue
        if len(task.labels) < 2:
            raise UserError(f"{where}: 'labels' must list at least two classes, got {task.labels}; or give answer_field for a task answered in free text")
        if len(set(task.labels)) != len(task.labels):
            raise UserError(f"{where}: 'labels' lists a class twice ({task.labels}); list each class once")
        maps = [task.label_map] + [s.label_map for s in (task.source, task.local) if s is not None and s.label_map]
        bad_targets = sorted({v for m in maps for v in m.values()} - set(task.labels))
        if bad_targets:
            raise UserError(f"{where}: label_map maps to {bad_targets}, which are not in labels {task.labels}; add them to labels")
        for key in ("train_size", "test_size", "max_length", "train_per_class", "test_per_class"):
            if getattr(task, key) is not None and getattr(task, key) < 1:
                raise UserError(f"{where}: '{key}' must be at least 1, got {getattr(task, key)}")
    if spec.grid:
        if spec.orders:
            raise UserError(f"{source}: a grid scenario generates its orders; remove 'orders' or set grid: false")
        spec.orders = [list(pair) for pair in itertools.permutations(names, 2)]
    if not spec.orders:
        raise UserError(f"{source}: 'orders' is empty; list at least one task order")
    for k, order in enumerate(spec.orders, 1):
        if not order:
            raise UserError(f"{source}: order {k} is empty; list at least one task in every order")
        unknown = [n for n in order if n not in names]
        if unknown:
            raise UserError(f"{source}: order {k} names unknown task(s) {unknown}; use names from 'tasks' ({names})")
        if len(set(order)) != len(order):
            raise UserError(f"{source}: order {k} lists a task twice ({order}); list each task once")


def check_free_text(task: TaskSpec, where: str) -> None:
    """The settings of a task answered in free text (its metric's name is checked by the formulation)."""
    if task.labels:
        raise UserError(f"{where}: gives both 'labels' and 'answer_field'; a task is a classification (labels) or answered in free text (answer_field), not both")
    for key in ("label_map", "answers", "drop_labels"):
        if getattr(task, key):
            raise UserError(f"{where}: '{key}' applies to labels, but the task is answered in free text (answer_field); remove it")
    if not task.metric.strip():
        raise UserError(f"{where}: 'metric' is empty; name an answer metric such as rouge_l or exact_match")
    for key in ("train_size", "test_size", "max_length"):
        if getattr(task, key) < 1:
            raise UserError(f"{where}: '{key}' must be at least 1, got {getattr(task, key)}")


def check_generation_settings(task: TaskSpec, where: str) -> None:
    """How any task's outputs are made and read when it is generated (a classification task in the generate formulation too)."""
    if task.answer_pattern is not None:
        try:
            compiled = re.compile(task.answer_pattern)
        except re.error as exc:
            raise UserError(f"{where}: answer_pattern {task.answer_pattern!r} is not a regular expression ({exc}); fix it") from exc
        if compiled.groups < 1:
            raise UserError(f"{where}: answer_pattern {task.answer_pattern!r} has no group; put the answer in parentheses, e.g. 'Answer: (\\w)'")
    if task.max_new_tokens is not None and task.max_new_tokens < 1:
        raise UserError(f"{where}: 'max_new_tokens' must be at least 1, got {task.max_new_tokens}")
    if any(not isinstance(s, str) or not s for s in task.stop):
        raise UserError(f"{where}: 'stop' must list non-empty strings, got {task.stop}")
    if not 0 < task.correct_at <= 1:
        raise UserError(f"{where}: 'correct_at' is the score (0-1] from which an output counts as right, got {task.correct_at}; use e.g. 0.5, or 1 for exact")
