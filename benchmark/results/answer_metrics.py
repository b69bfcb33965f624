"""Answer metrics: how one generated answer is scored against its reference(s), on a 0-1 scale.

A free-text task names its metric (``metric: rouge_l``); the cell of the accuracy
matrix R is the mean of its examples' scores, shown x100 like accuracy, as TRACE
reports it. Built-in metrics are in :mod:`benchmark.results.answer_metric_library`; a
plug-in registers one with :func:`register_answer_metric` (a ``--plugins`` module) or
through the ``forgetbench.answer_metrics`` entry-point group. A task's
``answer_pattern`` (a regular expression whose first group is the answer) is applied
to the output before it is scored; an output it does not match scores as empty.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from benchmark.core.registry import Registry

ScoreFunction = Callable[[str, Sequence[str], str | None], float]
"""(output, references, source) -> score in [0, 1]; ``source`` is None unless the metric needs it."""


@dataclass(frozen=True)
class AnswerMetric:
    """A registered answer metric.

    Attributes:
        name: What a task's ``metric`` names.
        fn: Scores one output (:data:`ScoreFunction`).
        needs_source: Whether it reads the example's source text (SARI), which the task then names in ``source_field``.
    """

    name: str
    fn: ScoreFunction
    needs_source: bool = False


ANSWER_METRICS: Registry[AnswerMetric] = Registry(
    "answer metric", where="a task's 'metric'",
    builtin_modules=("benchmark.results.answer_metric_library",), entry_point_group="forgetbench.answer_metrics",
)


def register_answer_metric(name: str, *, needs_source: bool = False) -> Callable[[ScoreFunction], ScoreFunction]:
    """Decorator: registers ``fn(output, references, source) -> [0, 1]`` as answer metric ``name``."""

    def add(fn: ScoreFunction) -> ScoreFunction:
        ANSWER_METRICS.add(name, AnswerMetric(name, fn, needs_source), description=(fn.__doc__ or "").strip().splitlines()[0])
        return fn

    return add


def answer_metric(name: str) -> AnswerMetric:
    """The registered answer metric ``name`` (a UserError with close matches if there is none)."""
    return ANSWER_METRICS.get(name)


def _first_group(text: str, pattern: str) -> str | None:
    """The first group of ``pattern``'s first match in ``text`` (None: no match, or the group took no part)."""
    match = re.search(pattern, text)
    return match.group(1) if match else None


def extracted(output: str, pattern: str | None) -> str:
    """The answer inside ``output``: the first group of ``pattern``'s first match (empty if none), or the whole output."""
    return output if pattern is None else _first_group(output, pattern) or ""


def extracted_reference(reference: str, pattern: str | None) -> str:
    """The answer inside a reference: extracted like an output where ``pattern`` matches it, else the whole reference.

    TRACE reads ScienceQA's answer letter out of the reference ("Answer: A\nBecause ...")
    as out of the output; a task whose references are bare answers keeps them whole.
    """
    found = None if pattern is None else _first_group(reference, pattern)
    return reference if found is None else found


def score_outputs(
    metric: str, outputs: Sequence[str], references: Sequence[Sequence[str]], sources: Sequence[str] | None = None,
    pattern: str | None = None,
) -> list[float]:
    """Every output's score under ``metric`` (``pattern``'s extraction applied to outputs and references), in example order."""
    scorer = answer_metric(metric)
    sources_in = sources if scorer.needs_source and sources is not None else [None] * len(outputs)
    return [
        float(scorer.fn(extracted(o, pattern), [extracted_reference(r, pattern) for r in refs], src))
        for o, refs, src in zip(outputs, references, sources_in)
    ]
