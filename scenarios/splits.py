"""The examples of one split of one task, as the harness carries them from the loader to the encoder."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass
class TextSplit:
    """Texts (and optional second texts of a pair) with integer labels into the task's label list.

    A free-text task's examples carry their ``references`` (one or more target texts; the
    first is the training target) and, for a metric that reads it, their ``sources``;
    their labels are all 0.
    """

    texts: list[str]
    labels: list[int]
    pairs: list[str] | None = None
    references: list[list[str]] | None = None
    sources: list[str] | None = None

    def __len__(self) -> int:
        return len(self.texts)
