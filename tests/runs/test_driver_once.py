"""The driver does each thing once: the scenario is read once, each (order, seed)'s tasks encoded once, each run fingerprinted
once, each strategy built once (every run starts from a copy of the checked one)."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest

import benchmark.engine.plan as plan_module
import benchmark.suite.planning as planning
import benchmark.suite.runner as runner
from benchmark.core.strategy_spec import strategy_parts
from benchmark.engine.formulations.heads import Heads
from benchmark.suite.config import build_config
from strategies.ewc import EWC
from strategies.l2sp import L2SP
from tests.conftest import write_toy_scenario


def test_a_suite_reads_encodes_and_fingerprints_each_thing_once(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    calls: Counter[str] = Counter()

    def counted(name: str, fn):  # noqa: ANN001, ANN202
        def wrapper(*args, **kwargs):  # noqa: ANN002, ANN003, ANN202
            calls[name] += 1
            return fn(*args, **kwargs)
        return wrapper

    monkeypatch.setattr(runner, "load_scenario", counted("scenario", runner.load_scenario))
    monkeypatch.setattr(Heads, "encode_tasks", counted("encode", Heads.encode_tasks))
    monkeypatch.setattr(planning, "run_fingerprint", counted("fingerprint", planning.run_fingerprint))
    monkeypatch.setattr(plan_module, "stable_hash", counted("hash", plan_module.stable_hash))
    monkeypatch.setattr(EWC, "__init__", counted("ewc", EWC.__init__))
    monkeypatch.setattr(L2SP, "__init__", counted("l2sp", L2SP.__init__))
    bound: list[int] = []
    monkeypatch.setattr(L2SP, "bind", lambda self, context: (bound.append(id(self)), setattr(self, "run", context)))
    scenario = write_toy_scenario(tmp_path / "toy", n_tasks=2, n_per_class=20, train_size=16, test_size=10)
    config = build_config(overrides=[{
        "scenario": str(scenario), "model": "tiny", "out": str(tmp_path / "out"), "progress": False,
        "strategies": ["naive", "l2sp", "ewc + replay"], "seeds": [0, 1], "orders": "all",
        "train": {"batch_size": 8}, "eval": {"ppl_tokens": 0},
    }])
    records = runner.run_suite(config)
    runs = 2 * 2 * 3  # orders x seeds x strategies
    assert len(records) == runs and all(r.status == "finished" for r in records)
    assert calls["scenario"] == 1
    assert calls["encode"] == 2 * 2  # once per (order, seed), shared by its strategies and row 0
    assert calls["fingerprint"] == runs  # made by the plan, never again in this process
    assert calls["hash"] == runs + 2 * 2  # the runs' fingerprints and one row-0 key per (order, seed)
    assert calls["ewc"] == calls["l2sp"] == 1  # built and checked once by the suite
    assert len(bound) == len(set(bound)) == 2 * 2  # yet every run binds an instance of its own


def test_a_composed_spec_is_split_in_one_place_with_spaces_ignored() -> None:
    assert strategy_parts("ewc + replay") == strategy_parts("ewc+replay") == ["ewc", "replay"]
