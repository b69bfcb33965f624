"""``RunContext`` is the strategy's view of its run: read-only, and nothing in it that no strategy reads."""

from __future__ import annotations

import dataclasses
import re
from pathlib import Path

import pytest

from benchmark.engine.run_context import RunContext

ROOT = Path(__file__).resolve().parents[2]


def test_the_context_is_read_only() -> None:
    context = RunContext(seed=0, train=None, backbone=None, tasks=[], general_texts=[], device="cpu")  # type: ignore[arg-type]
    with pytest.raises(dataclasses.FrozenInstanceError):
        context.seed = 1  # type: ignore[misc]


def test_every_field_is_read_by_a_strategy() -> None:
    sources = "\n".join(p.read_text(encoding="utf-8") for p in (ROOT / "strategies").rglob("*.py"))
    read = set(re.findall(r"self\.run\.(\w+)", sources))
    fields = {f.name for f in dataclasses.fields(RunContext)} | {"pad_id"}
    assert fields - read == set(), "a field no strategy reads belongs to the runner's wiring (RunWiring), not the strategy's view"
