"""--dtype: the weights' stored type. bf16 runs every strategy in every formulation; fp32 keeps its fingerprints."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

import benchmark.suite.runner as runner
from benchmark.core.errors import UserError
from benchmark.engine.run_steps import RunOutcome
from benchmark.model.weights_dtype import resolve_weights_dtype
from benchmark.suite.config import build_config
from leaderboard.validate import validate_results
from strategies.base import STRATEGIES
from tests.conftest import write_free_text_scenario, write_toy_scenario
from tests.runs.test_strategies import base_weights

NATIVE = sorted(n for n in STRATEGIES.names() if not n.startswith("avalanche:"))


@pytest.fixture(scope="module")
def scenarios(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("scenarios")
    toy = write_toy_scenario(folder / "toy", n_tasks=2, n_per_class=30, train_size=32, test_size=16)
    free = write_free_text_scenario(folder / "free", metrics=("rouge_l", "exact_match"), n=30, train_size=16, test_size=6)
    return {"heads": toy, "text": toy, "generate": free}


def suite(scenario: Path, out: Path, strategies: list[str], **overrides: object) -> dict[str, RunOutcome]:
    """Runs ``strategies`` on ``scenario`` with the tiny model; the outcomes by strategy."""
    config = build_config(overrides=[{
        "scenario": str(scenario), "model": "tiny", "out": str(out), "progress": False, "strategies": strategies,
        "train": {"lr": 3e-3, "head_lr": 1e-2, "batch_size": 8}, "eval": {"ppl_tokens": 256, "ppl_context": 32},
    }, overrides])
    outcomes: dict[str, RunOutcome] = {}
    runner.run_suite(config, on_run=lambda outcome, path: outcomes.__setitem__(outcome.record.strategy, outcome))
    return outcomes


@pytest.mark.parametrize("formulation", ["heads", "text", "generate"])
def test_bf16_weights_run_every_strategy_to_a_valid_record(scenarios: dict[str, Path], tmp_path: Path, formulation: str) -> None:
    names = [n for n in NATIVE if STRATEGIES.get(n).formulations is None or formulation in STRATEGIES.get(n).formulations]
    extra = {"formulation": formulation} if formulation != "generate" else {"eval": {"ppl_tokens": 0}}
    outcomes = suite(scenarios[formulation], tmp_path / "out", names, dtype="bf16", **extra)
    assert sorted(outcomes) == sorted(names)
    assert validate_results(tmp_path / "out") == []  # every stored cell recomputes from its outcomes or outputs
    for name, outcome in outcomes.items():
        record = outcome.record
        assert record.status == "finished", (name, record.error)
        assert all(v is not None for v in record.accuracy_matrix[-1]), name
        assert record.config["dtype"] == "bf16" and record.environment["dtype"] == "bf16"
        assert {t.dtype for t in base_weights(outcome.model).values() if t.is_floating_point()} == {torch.bfloat16}, name
        assert all(p.dtype == torch.float32 for p in outcome.model.heads.parameters())  # heads stay float32
    trained = base_weights(outcomes["naive"].model)
    untouched = base_weights(outcomes["frozen"].model)
    assert any(not torch.equal(trained[k], untouched[k]) for k in untouched)  # the optimizer updates the bf16 weights


def test_fp32_and_auto_on_a_cpu_share_the_fingerprint_bf16_has_its_own(scenarios: dict[str, Path], tmp_path: Path) -> None:
    records = {dtype: suite(scenarios["heads"], tmp_path / dtype, ["naive"], dtype=dtype)["naive"].record for dtype in ("fp32", "auto", "bf16")}
    assert records["auto"].environment["dtype"] == "fp32" and records["auto"].config["dtype"] == "auto"
    assert records["auto"].fingerprint == records["fp32"].fingerprint
    assert records["auto"].measures == records["fp32"].measures  # the same run, bit for bit
    assert records["bf16"].fingerprint != records["fp32"].fingerprint


def test_a_type_the_device_cannot_compute_in_is_refused_in_one_sentence(monkeypatch: pytest.MonkeyPatch) -> None:
    assert resolve_weights_dtype("fp16", "cpu") == "fp16"  # torch 2.x computes in float16 on CPUs
    assert resolve_weights_dtype("auto", "cpu") == "fp32"

    def no_kernel(*args: object, **kwargs: object) -> torch.Tensor:
        raise RuntimeError('"addmm_impl_cpu_" not implemented for \'Half\'')

    monkeypatch.setattr(torch, "ones", no_kernel)
    with pytest.raises(UserError, match=r"--dtype fp16: torch cannot compute in torch.float16 on cpu here .*; use --dtype fp32$"):
        resolve_weights_dtype("fp16", "cpu")
