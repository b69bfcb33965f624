"""The accuracy matrix so far as a markdown table, which every tracker can show as text."""

from __future__ import annotations


def matrix_markdown(matrix: list[list[float | None]], tasks: list[str]) -> str:
    """Rows 0..t of R (percent, one decimal; a dash where a task was not evaluated) under the task names."""
    header = "| row | " + " | ".join(tasks) + " |\n|---|" + "---|" * len(tasks)
    lines = [f"| {i} | " + " | ".join("-" if v is None else f"{100 * v:.1f}" for v in row) + " |" for i, row in enumerate(matrix)]
    return "\n".join([header, *lines])
