"""Per-example outcomes: which test examples each evaluation got right, stored compactly in the record.

The ``accuracy`` measure stores, beside each accuracy cell, an ``outcomes`` cell: the
gold class and the chosen class of every test example of that task, in test-split
order (-1 where nothing valid was chosen: a greedy output that matches no answer). The
accuracy is the share of examples whose chosen class is the gold one, so the accuracy
matrix can be recomputed from the outcomes alone (``leaderboard validate`` does), and
examples can be paired between strategies run on the same split (paired bootstrap,
McNemar) or followed from row to row (forgetting events).

A cell is text: ``o1:`` then base64 of the zlib-compressed little-endian int16 array
``[gold..., chosen...]``. Gold classes repeat down a column and chosen ones mostly
repeat between rows, so a 150-example cell takes about 100 characters. The standard
library's zlib and base64 are the encoding (no format is worth a dependency here).
"""

from __future__ import annotations

import base64
import binascii
import zlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

SERIES = "outcomes"  # the accuracy measure's outcome series in a record's measures
SUFFIX = "_outcomes"  # any other measure's: ``<score series>_outcomes``
PREFIX = "o1:"
NOTHING_CHOSEN = -1


def reproduced_series(name: str) -> str | None:
    """The score series an outcome series reproduces, or None if ``name`` is no outcome series.

    A measure declares an outcome series by its name, so records, ``validate`` and the
    leaderboard need no list of them: ``outcomes`` reproduces ``accuracy`` (it came
    first), and ``<score>_outcomes`` reproduces ``<score>`` (``probe_outcomes``:
    ``probe``). A measure's registration checks that it stores the score series too.
    """
    if name == SERIES:
        return "accuracy"
    if name.endswith(SUFFIX) and len(name) > len(SUFFIX):
        return name[: -len(SUFFIX)]
    return None


def is_layered(values: Sequence[Any] | None) -> bool:
    """Whether a series' cells are lists over layers (``layer_probe_outcomes``: a cell per layer)."""
    return any(isinstance(cell, list) for row in values or [] if isinstance(row, list) for cell in row)


@dataclass(frozen=True)
class Outcomes:
    """One evaluation of one task: the gold and the chosen class of every test example.

    A free-text task's evaluation (:func:`benchmark.results.generations.generation_outcomes`)
    also carries each example's score (0-1): its cell of R is their mean, and an example
    counts as right (``chosen == gold``) when its score reaches the task's ``correct_at``.
    """

    gold: np.ndarray
    chosen: np.ndarray
    scores: np.ndarray | None = None

    @property
    def correct(self) -> np.ndarray:
        """Whether each example was answered right, shape (examples,)."""
        return self.chosen == self.gold

    @property
    def values(self) -> np.ndarray:
        """Each example's part of the cell: its score, or 1 if right and 0 if wrong."""
        return self.correct.astype(float) if self.scores is None else self.scores

    @property
    def accuracy(self) -> float:
        """The cell it stands beside: the share of examples answered right, or the mean score of free-text outputs."""
        if self.scores is not None:
            return float(self.scores.sum()) / len(self.scores)
        return int(self.correct.sum()) / len(self.gold)


def encode(gold: Sequence[int] | np.ndarray, chosen: Sequence[int] | np.ndarray) -> str:
    """One outcomes cell from the gold and chosen class of every test example (-1: nothing valid chosen)."""
    gold_array, chosen_array = np.asarray(gold, dtype=np.int64), np.asarray(chosen, dtype=np.int64)
    if gold_array.shape != chosen_array.shape or gold_array.ndim != 1 or not len(gold_array):
        raise ValueError(f"outcomes need one chosen class per gold class; got {gold_array.shape} and {chosen_array.shape}")
    packed = np.concatenate([gold_array, chosen_array]).astype("<i2").tobytes()
    return PREFIX + base64.b64encode(zlib.compress(packed, 9)).decode("ascii")


def scored(gold: Sequence[int] | np.ndarray, chosen: Sequence[int] | np.ndarray) -> tuple[float, str]:
    """The accuracy and the outcomes cell of one evaluation; the accuracy is read back from the cell, as validate reads it."""
    cell = encode(gold, chosen)
    return decode(cell).accuracy, cell


def decode(cell: str) -> Outcomes:
    """The outcomes in one stored cell.

    Raises:
        ValueError: On text that is not an outcomes cell.
    """
    if not isinstance(cell, str) or not cell.startswith(PREFIX):
        raise ValueError(f"an outcomes cell starts with {PREFIX!r}")
    try:
        packed = np.frombuffer(zlib.decompress(base64.b64decode(cell[len(PREFIX) :], validate=True)), dtype="<i2").astype(np.int64)
    except (binascii.Error, zlib.error) as exc:
        raise ValueError(f"an outcomes cell does not decode ({exc})") from exc
    if not len(packed) or len(packed) % 2:
        raise ValueError("an outcomes cell must hold as many chosen classes as gold ones")
    half = len(packed) // 2
    return Outcomes(gold=packed[:half], chosen=packed[half:])


def is_cell(value: Any) -> bool:
    """Whether ``value`` looks like an outcomes cell (text with the format's prefix)."""
    return isinstance(value, str) and value.startswith(PREFIX)


@dataclass(frozen=True)
class OutcomeTable:
    """A run's outcomes: ``cells[i][j]`` for row i and task column j (None: not evaluated)."""

    cells: list[list[Outcomes | None]]

    @property
    def shape(self) -> tuple[int, int]:
        """(rows, task columns)."""
        return len(self.cells), len(self.cells[0]) if self.cells else 0

    def accuracy_matrix(self) -> list[list[float | None]]:
        """The accuracy matrix the outcomes give (None where not evaluated)."""
        return [[None if cell is None else cell.accuracy for cell in row] for row in self.cells]

    def column(self, j: int) -> list[Outcomes | None]:
        """Task column ``j`` down the rows."""
        return [row[j] for row in self.cells]


def outcome_table(values: Sequence[Any] | None, decode_cell: Callable[[str], Outcomes] | None = None) -> OutcomeTable | None:
    """The stored ``outcomes`` series (rows of cells, a row None where not measured) decoded; None if absent or without a cell.

    ``decode_cell`` reads another kind of cell as outcomes (default: :func:`decode`; a
    free-text run's ``generations`` cells are read by ``generation_outcomes``).

    Raises:
        ValueError: On a cell that does not decode.
    """
    if not values or all(cell is None for row in values for cell in (row if isinstance(row, list) else [row])):
        return None  # no row stores a cell (a free-text run stores its outcomes in its generations)
    width = max(len(row) for row in values if isinstance(row, list))
    read = decode_cell or decode
    return OutcomeTable([[None if c is None else read(c) for c in row] if isinstance(row, list) else [None] * width for row in values])


def layer_slice(values: Sequence[Any] | None, layer: int) -> list[Any] | None:
    """One layer of a series whose cells are lists over layers: the same rows and columns, each cell that layer's entry.

    Raises:
        ValueError: On a cell that is not a list over layers or has no entry for ``layer``.
    """
    if values is None:
        return None

    def entry(cell: Any) -> Any:
        if cell is None:
            return None
        if not isinstance(cell, list) or layer >= len(cell):
            raise ValueError(f"a cell holds no entry for layer {layer} (every cell is a list over the same layers)")
        return cell[layer]

    return [[entry(cell) for cell in row] if isinstance(row, list) else None for row in values]


def layer_count(values: Sequence[Any] | None) -> int:
    """How many layers the cells of a layered series hold (0: nothing stored)."""
    return max((len(cell) for row in values or [] if isinstance(row, list) for cell in row if isinstance(cell, list)), default=0)


def table_problems(table: OutcomeTable, matrix: Sequence[Sequence[float | None]], tasks: Sequence[str], *, series: str = "accuracy") -> list[str]:
    """Where the outcomes disagree with the stored scores (``series``: the accuracy matrix), or a column's gold classes change between rows."""
    problems = []
    for j, name in enumerate(tasks):
        cells = [(i, cell) for i, cell in enumerate(table.column(j)) if cell is not None]
        first = cells[0][1].gold if cells else None
        for i, cell in cells:
            if not np.array_equal(cell.gold, first):
                problems.append(f"outcomes of task {name!r} at row {i} have other gold classes than at row {cells[0][0]}")
            stored = matrix[i][j] if i < len(matrix) and j < len(matrix[i]) else None
            if stored is None or abs(stored - cell.accuracy) > 1e-12:
                problems.append(f"{series} of task {name!r} at row {i} is stored as {stored!r} but its outcomes give {cell.accuracy!r}")
    return problems
