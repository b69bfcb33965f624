"""What the generate formulation needs of a task beyond its prompts: its references and how outputs are made and scored."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class GenerationTask:
    """How a task's outputs are generated and scored.

    Attributes:
        metric: The answer metric (:mod:`benchmark.results.answer_metrics`).
        references: Every test example's reference texts.
        sources: Every test example's source text (for SARI), or None.
        answer_pattern: Extracts the answer from an output before scoring, or None.
        stop: Strings that end an output (cut before them).
        max_new_tokens: The most tokens generated per output.
        correct_at: The score from which an output counts as right in per-example outcomes (1: exact).
    """

    metric: str
    references: list[list[str]]
    sources: list[str] | None
    answer_pattern: str | None
    stop: tuple[str, ...]
    max_new_tokens: int
    correct_at: float = 1.0
