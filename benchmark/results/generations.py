"""Per-example outputs of free-text tasks, stored in the record so every cell of R can be recomputed.

Beside each ``accuracy`` cell of a free-text task the generate formulation stores a
``generations`` cell: every test example's output (after stop strings, before answer
extraction) and its score, in test-split order. The record's
``extra["references"][task]`` holds the task's references, sources, metric and answer
pattern once. ``leaderboard validate`` rescores every output from these and names any
cell whose stored score or accuracy disagrees; ``leaderboard samples`` writes them out.

A cell is text: ``g1:`` (outputs) or ``r1:`` (references) then base64 of zlib-compressed
JSON. Outputs are bounded by the task's ``max_new_tokens``, so a cell is bounded too.
A generations cell also holds the task's ``correct_at`` (absent in cells written before
it existed: 1, an exact score), from which an output counts as right in the per-example
outcomes that forgetting events and McNemar's test read (:func:`generation_outcomes`).
"""

from __future__ import annotations

import base64
import binascii
import json
import zlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from benchmark.results.answer_metrics import score_outputs
from benchmark.results.outcomes import NOTHING_CHOSEN, SERIES as OUTCOMES, OutcomeTable, Outcomes, outcome_table

SERIES = "generations"
OUTPUTS_PREFIX, REFERENCES_PREFIX = "g1:", "r1:"
TOLERANCE = 1e-9


def _pack(prefix: str, data: dict[str, Any]) -> str:
    return prefix + base64.b64encode(zlib.compress(json.dumps(data, ensure_ascii=False).encode("utf-8"), 9)).decode("ascii")


def _unpack(prefix: str, cell: object) -> dict[str, Any]:
    if not isinstance(cell, str) or not cell.startswith(prefix):
        raise ValueError(f"a cell of this kind starts with {prefix!r}")
    try:
        data = json.loads(zlib.decompress(base64.b64decode(cell[len(prefix):], validate=True)).decode("utf-8"))
    except (binascii.Error, zlib.error, UnicodeDecodeError, ValueError) as exc:
        raise ValueError(f"a {prefix!r} cell does not decode ({type(exc).__name__})") from exc
    if not isinstance(data, dict):
        raise ValueError(f"a {prefix!r} cell holds no object")
    return data


@dataclass(frozen=True)
class Generations:
    """One evaluation of one free-text task: every output and its score."""

    outputs: list[str]
    scores: list[float]
    correct_at: float = 1.0

    @property
    def accuracy(self) -> float:
        """The task's cell of R: the mean score."""
        return sum(self.scores) / len(self.scores)


@dataclass(frozen=True)
class References:
    """What a free-text task's outputs are scored against."""

    metric: str
    references: list[list[str]]
    sources: list[str] | None
    answer_pattern: str | None

    def scores(self, outputs: Sequence[str]) -> list[float]:
        """Every output's score."""
        return score_outputs(self.metric, outputs, self.references, self.sources, self.answer_pattern)


def encode_generations(outputs: Sequence[str], scores: Sequence[float], correct_at: float = 1.0) -> str:
    """One ``generations`` cell (``correct_at``: the score from which an output counts as right)."""
    if len(outputs) != len(scores) or not outputs:
        raise ValueError(f"a generations cell needs one score per output; got {len(outputs)} and {len(scores)}")
    return _pack(OUTPUTS_PREFIX, {"outputs": list(outputs), "scores": [float(s) for s in scores], "correct_at": float(correct_at)})


def is_generations_cell(value: object) -> bool:
    """Whether ``value`` looks like a generations cell (text with the format's prefix)."""
    return isinstance(value, str) and value.startswith(OUTPUTS_PREFIX)


def decode_generations(cell: object) -> Generations:
    """The outputs and scores of a stored cell (ValueError on anything else)."""
    data = _unpack(OUTPUTS_PREFIX, cell)
    outputs, scores = data.get("outputs"), data.get("scores")
    if not isinstance(outputs, list) or not isinstance(scores, list) or len(outputs) != len(scores) or not outputs:
        raise ValueError("a generations cell holds one score per output")
    correct_at = data.get("correct_at", 1.0)
    if isinstance(correct_at, bool) or not isinstance(correct_at, (int, float)) or not 0 < correct_at <= 1:
        raise ValueError(f"a generations cell's correct_at must be a number in (0, 1], got {correct_at!r}")
    return Generations([str(o) for o in outputs], [float(s) for s in scores], float(correct_at))


def generation_outcomes(cell: object) -> Outcomes:
    """A generations cell as per-example outcomes: every score, and right where it reaches the cell's ``correct_at``."""
    got = decode_generations(cell)
    scores = np.asarray(got.scores, dtype=float)
    gold = np.zeros(len(scores), dtype=np.int64)  # one class: the examples are told apart by position, as the data hash matched them
    return Outcomes(gold=gold, chosen=np.where(scores >= got.correct_at, 0, NOTHING_CHOSEN), scores=scores)


def generation_outcome_table(values: Sequence[Any] | None) -> OutcomeTable | None:
    """A stored ``generations`` series as an outcome table (None if absent or without a cell); ValueError on a cell that does not decode."""
    return outcome_table(values, generation_outcomes)


def encode_references(references: References) -> str:
    """A task's references cell (``extra["references"][task]``)."""
    return _pack(REFERENCES_PREFIX, {
        "metric": references.metric, "references": references.references, "sources": references.sources, "answer_pattern": references.answer_pattern,
    })


def decode_references(cell: object) -> References:
    """A stored references cell (ValueError on anything else)."""
    data = _unpack(REFERENCES_PREFIX, cell)
    if not isinstance(data.get("metric"), str) or not isinstance(data.get("references"), list):
        raise ValueError("a references cell names its metric and lists its references")
    return References(data["metric"], data["references"], data.get("sources"), data.get("answer_pattern"))


def generation_problems(measures: dict[str, Any], extra: dict[str, Any], tasks: Sequence[str]) -> list[str]:
    """Every stored output rescored: the cells whose scores or accuracy disagree with their outputs and references."""
    rows = measures.get(SERIES)
    if not rows:
        return []
    stored = extra.get("references") or {}
    accuracy = measures.get("accuracy") or []
    problems = []
    for i, row in enumerate(rows):
        for j, cell in enumerate(row or []):
            if cell is None:
                continue
            name = tasks[j] if j < len(tasks) else str(j)
            try:
                got, against = decode_generations(cell), decode_references(stored.get(name))
            except ValueError as exc:
                problems.append(f"generations of task {name!r} at row {i}: {exc}")
                continue
            rescored = against.scores(got.outputs)
            wrong = [k for k, (a, b) in enumerate(zip(got.scores, rescored)) if abs(a - b) > TOLERANCE]
            if len(rescored) != len(got.scores) or wrong:
                problems.append(f"generations of task {name!r} at row {i}: example {wrong[0] if wrong else len(rescored)}'s stored score is not what its output scores")
            cell_value = accuracy[i][j] if i < len(accuracy) and accuracy[i] and j < len(accuracy[i]) else None
            if cell_value is None or abs(cell_value - sum(rescored) / max(1, len(rescored))) > TOLERANCE:
                problems.append(f"accuracy of task {name!r} at row {i} is stored as {cell_value!r} but its outputs score {sum(rescored) / max(1, len(rescored))!r}")
    return problems


def run_outcomes(measures: Mapping[str, Any]) -> OutcomeTable | None:
    """A run's per-example outcomes: the accuracy measure's ``outcomes``, else those of its free-text outputs (None: neither)."""
    table = outcome_table(measures.get(OUTCOMES))
    return table if table is not None else generation_outcome_table(measures.get(SERIES))
