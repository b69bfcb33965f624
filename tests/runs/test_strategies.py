"""Every strategy proves its mechanism on the tiny backbone, not only that it runs."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

import benchmark.suite.runner as runner
from benchmark.core.errors import UserError
from benchmark.model.backbones import load_backbone
from benchmark.suite.setup import prepare_data
from scenarios.catalog import load_scenario
from benchmark.suite.config import build_config
from benchmark.results.records import RunRecord
from benchmark.engine.run_steps import RunOutcome
from strategies.avalanche.engine import avalanche_installed
from strategies.base import STRATEGIES
from leaderboard.validate import validate_results
from tests.conftest import write_free_text_scenario, write_toy_scenario


@pytest.fixture(scope="module")
def scenario(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_toy_scenario(tmp_path_factory.mktemp("toy"))


def run(scenario: Path, out: Path, strategy: str, args: dict | None = None, **overrides: object) -> RunOutcome:
    """Runs one strategy on the 3-task toy scenario and returns its outcome (record + model)."""
    config = build_config(overrides=[{
        "scenario": str(scenario), "model": "tiny", "out": str(out), "progress": False, "strategies": [strategy],
        "strategy_args": {strategy.split("+")[0]: args} if args else {},
        "train": {"lr": 3e-3, "head_lr": 1e-2, "batch_size": 8, "epochs": 2}, "eval": {"ppl_tokens": 512, "ppl_context": 64},
    }, overrides])
    outcomes: list[RunOutcome] = []
    runner.run_suite(config, on_run=lambda outcome, path: outcomes.append(outcome))
    return outcomes[0]


def pristine_backbone(scenario: Path) -> dict[str, torch.Tensor]:
    """The untouched pretrained backbone weights the runs start from."""
    data = prepare_data(build_config(overrides=[{"scenario": str(scenario), "model": "tiny"}]), load_scenario(str(scenario)))
    return load_backbone("tiny", texts=data.vocabulary_texts()).model.state_dict()


def base_weights(model: torch.nn.Module) -> dict[str, torch.Tensor]:
    """Backbone weights under their original names (adapter/LoRA wrappers stripped)."""
    backbone = model.backbone.get_base_model() if hasattr(model.backbone, "get_base_model") else model.backbone
    out = {}
    for name, tensor in backbone.state_dict().items():
        if "adapters." in name or "lora_" in name:
            continue
        out[name.replace(".base_layer.", ".").replace(".base.", ".")] = tensor
    return out


@pytest.mark.parametrize("formulation", ["heads", "text"])
@pytest.mark.parametrize("name", sorted(STRATEGIES.names()))
def test_every_registered_strategy_runs_to_a_full_record(scenario: Path, tmp_path: Path, name: str, formulation: str) -> None:
    cls = STRATEGIES.get(name)
    if cls.formulations is not None and formulation not in cls.formulations:
        with pytest.raises(UserError, match=f"works only in the {' and '.join(cls.formulations)} formulation"):
            run(scenario, tmp_path / "out", name, formulation=formulation)
        return
    if name.startswith("avalanche:") and not avalanche_installed():
        pytest.skip("avalanche-lib is not installed in this environment (make test runs these in .venv-avalanche)")
    record = run(scenario, tmp_path / "out", name, formulation=formulation).record
    assert record.status == "finished", record.error
    assert all(v is not None for v in record.accuracy_matrix[-1])
    assert record.metrics["acc"] is not None and record.metrics["ppl_ratio"] is not None
    if formulation == "text" and name in ("frozen", "icl"):  # nothing trains without heads
        assert record.parameters["trainable"] == 0
    else:
        assert record.parameters["trainable"] > 0
    if formulation == "text":
        assert record.metrics["acc_per_byte"] is not None


@pytest.fixture(scope="module")
def free_text_scenario(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_free_text_scenario(tmp_path_factory.mktemp("free"), metrics=("rouge_l", "exact_match"), train_size=24, test_size=8)


@pytest.mark.parametrize("name", sorted(n for n in STRATEGIES.names() if not n.startswith("avalanche:")))
def test_every_native_strategy_runs_on_free_text_tasks(free_text_scenario: Path, tmp_path: Path, name: str) -> None:
    record = run(free_text_scenario, tmp_path / "out", name, eval={"ppl_tokens": 0}).record
    assert record.status == "finished", record.error
    generations = record.measures["generations"]
    assert all(cell is not None for cell in generations[-1]) and record.metrics["acc"] is not None
    assert validate_results(tmp_path / "out") == []  # every stored output rescores to its cell
    if name == "frozen":
        assert all(row == generations[0] for row in generations[1:])


def test_avalanche_strategies_are_refused_on_free_text_in_one_sentence(free_text_scenario: Path, tmp_path: Path) -> None:
    name = next(n for n in sorted(STRATEGIES.names()) if n.startswith("avalanche:"))
    with pytest.raises(UserError, match="works only in the heads formulation"):
        run(free_text_scenario, tmp_path / "out", name)


@pytest.mark.parametrize(("name", "args"), [("frozen", None), ("adapters", {"per_task": True}), ("adapters", {"per_task": False}), ("lora", {"per_task": False}), ("lora", {"per_task": True})])
def test_modular_strategies_leave_every_backbone_weight_bit_identical(scenario: Path, tmp_path: Path, name: str, args: dict | None) -> None:
    before = pristine_backbone(scenario)
    outcome = run(scenario, tmp_path / "out", name, args)
    after = base_weights(outcome.model)
    assert set(after) == set(before)
    for key, tensor in before.items():
        assert torch.equal(after[key], tensor), key
    ppl = outcome.record.perplexity
    assert all(p == ppl[0] for p in ppl)  # the LM path sees exactly the pretrained backbone
    assert outcome.record.parameters["trainable"] < outcome.record.parameters["total"] / 2


@pytest.mark.parametrize(("name", "args"), [("adapters", {"per_task": True}), ("lora", {"per_task": True}), ("frozen", None)])
def test_per_task_modules_cannot_forget(scenario: Path, tmp_path: Path, name: str, args: dict | None) -> None:
    R = run(scenario, tmp_path / "out", name, args).record.accuracy_matrix
    assert [R[3][j] for j in range(3)] == [R[j + 1][j] for j in range(3)]  # R[T][j] == R[j][j] exactly


def same_numbers(a: RunRecord, b: RunRecord) -> bool:
    return a.accuracy_matrix == b.accuracy_matrix and a.perplexity == b.perplexity


@pytest.mark.parametrize(("name", "args"), [
    ("l2sp", {"alpha": 0.0, "beta": 0.0}), ("ewc", {"ewc_lambda": 0.0}), ("aux_lm", {"gamma0": 0.0}),
    ("replay", {"weight": 0.0}), ("distill", {"weight": 0.0}),
])
def test_zero_weight_matches_naive_exactly(scenario: Path, tmp_path: Path, name: str, args: dict) -> None:
    naive = run(scenario, tmp_path / "naive", "naive").record
    assert same_numbers(run(scenario, tmp_path / name, name, args).record, naive)


def test_l2sp_with_a_huge_alpha_stays_near_the_pretrained_weights(scenario: Path, tmp_path: Path) -> None:
    before = pristine_backbone(scenario)

    def drift(outcome: RunOutcome) -> float:
        after = base_weights(outcome.model)
        return max(float((after[k] - v).abs().max()) for k, v in before.items())

    free = drift(run(scenario, tmp_path / "naive", "naive"))
    held = drift(run(scenario, tmp_path / "l2sp", "l2sp", {"alpha": 1e6}))
    # Adam moves a weight by about lr per step whatever the gradient's scale, so a huge
    # alpha keeps every weight oscillating within a few lr of theta0.
    assert held < 0.02 and held < free / 3


def test_joint_trains_once_on_all_tasks_and_fills_only_the_last_row(scenario: Path, tmp_path: Path) -> None:
    record = run(scenario, tmp_path / "out", "joint").record
    assert record.accuracy_matrix[1] == [None] * 3 and record.accuracy_matrix[2] == [None] * 3
    assert [t.task for t in record.timings] == ["joint"]
    naive = run(scenario, tmp_path / "naive", "naive").record
    assert record.timings[0].steps == sum(t.steps for t in naive.timings)  # the same data budget
    assert record.metrics["bwt"] is None and record.metrics["forgetting"] is None
    assert record.perplexity[1] is None and record.perplexity[3] is not None


def test_composition_sums_penalties_and_chains_hooks() -> None:
    from strategies.base import Composite, Strategy

    calls: list[str] = []

    class Constant(Strategy):
        def __init__(self, *, value: float) -> None:
            self.value = value

        def before_task(self, model, task) -> None:  # noqa: ANN001
            calls.append(f"before{self.value}")

        def penalty(self, model, batch, outputs) -> torch.Tensor:  # noqa: ANN001
            return torch.tensor(self.value)

    both = Composite(parts=[Constant(value=1.5), Constant(value=2.0)])
    assert float(both.penalty(None, {}, None)) == 3.5
    both.before_task(None, None)
    assert calls == ["before1.5", "before2.0"]

