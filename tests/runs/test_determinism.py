"""The same config and seed give bit-identical records on CPU (apart from timings)."""

from __future__ import annotations

from pathlib import Path

import pytest

import benchmark.suite.runner as runner
from benchmark.suite.config import build_config

pytestmark = pytest.mark.slow  # runs whole suites, several per test: not in `make test-fast`

VOLATILE = {"timings", "total_seconds", "created_at", "environment", "extra"}


@pytest.mark.parametrize("strategy", ["naive", "ewc+replay", "lora", "aux_lm"])
def test_same_seed_gives_identical_records(toy_scenario: Path, tmp_path: Path, strategy: str) -> None:
    def once(out: Path) -> dict:
        config = build_config(overrides=[{
            "scenario": str(toy_scenario), "model": "tiny", "out": str(out), "progress": False, "strategies": [strategy],
            "train": {"batch_size": 8}, "eval": {"ppl_tokens": 256, "ppl_context": 32},
        }])
        (record,) = runner.run_suite(config)
        data = {k: v for k, v in record.to_json().items() if k not in VOLATILE}
        data["config"] = {k: v for k, v in data["config"].items() if k != "out"}
        return data

    first, second = once(tmp_path / "a"), once(tmp_path / "b")
    assert first == second
    assert first["status"] == "finished"
