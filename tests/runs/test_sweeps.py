"""``--sweep``: a grid of settings, each point its own runs with their own fingerprints, named in the record and the tables."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from benchmark.cli import main
from benchmark.suite.sweeps import point_label
from tests.conftest import smoke_args, write_toy_scenario

pytestmark = pytest.mark.slow  # runs suites


@pytest.fixture(scope="module")
def scenario(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_toy_scenario(tmp_path_factory.mktemp("toy"), n_tasks=2, n_per_class=20, train_size=16, test_size=8)


def records(out: Path) -> dict[str, dict]:
    return {json.loads(p.read_text())["strategy"]: json.loads(p.read_text()) for p in out.glob("*.json")}


def test_each_point_runs_with_its_value_and_a_strategy_it_does_not_concern_runs_once(
    scenario: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str],
) -> None:
    out = tmp_path / "out"
    sweep = ("--strategies", "naive,l2sp", "--sweep", "strategy_args.l2sp.alpha=0,1", "--set", "strategy_args.l2sp.beta=0")
    assert main(smoke_args(scenario, out, *sweep)) == 0
    found = records(out)
    assert sorted(found) == ["l2sp[alpha=0]", "l2sp[alpha=1]", "naive"]
    assert found["l2sp[alpha=0]"]["config"]["sweep_point"] == {"strategy_args.l2sp.alpha": 0}
    assert found["l2sp[alpha=0]"]["config"]["strategy_args"]["l2sp"]["alpha"] == 0
    assert found["l2sp[alpha=0]"]["measures"] == found["naive"]["measures"]  # alpha = 0 reached the strategy: it is naive
    assert found["l2sp[alpha=1]"]["measures"] != found["naive"]["measures"]
    assert len({r["fingerprint"] for r in found.values()}) == 3
    capsys.readouterr()
    assert main(["leaderboard", "--results", str(out)]) == 0
    table = capsys.readouterr().out
    assert "l2sp[alpha=0]" in table and "l2sp[alpha=1]" in table  # a row per point
    assert main(smoke_args(scenario, out, *sweep)) == 0  # everything is recorded: nothing runs again
    again = records(out)
    assert {k: r["created_at"] for k, r in again.items()} == {k: r["created_at"] for k, r in found.items()}
    assert {k: r["total_seconds"] for k, r in again.items()} == {k: r["total_seconds"] for k, r in found.items()}


def test_a_grid_over_two_keys_runs_every_combination(scenario: Path, tmp_path: Path) -> None:
    out = tmp_path / "grid"
    assert main(smoke_args(scenario, out, "--strategies", "naive", "--sweep", "train.lr=0.001,0.003", "--sweep", "train.epochs=1,2")) == 0
    found = records(out)
    assert sorted(found) == sorted(f"naive[lr={lr},epochs={e}]" for lr in (0.001, 0.003) for e in (1, 2))
    assert found["naive[lr=0.003,epochs=2]"]["config"]["train"]["epochs"] == 2


@pytest.mark.parametrize(("flags", "says"), [
    (("--sweep", "train.lrr=1,2"), "lrr"),
    (("--sweep", "strategy_args.ewc.ewc_lambda=1,2"), "for a strategy the suite runs"),
    (("--sweep", "seeds=1,2"), "not which runs there are"),
    (("--sweep", "train.lr="), "names no value"),
    (("--sweep", "train.lr=1,2", "--model", "tiny,tiny-t5"), "do not combine"),
])
def test_a_bad_sweep_is_one_sentence_and_writes_nothing(scenario: Path, tmp_path: Path, flags: tuple[str, ...], says: str,
                                                        capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "bad"
    assert main(smoke_args(scenario, out, *flags)) == 2
    err = capsys.readouterr().err.strip()
    assert says in err and err.count("\n") == 0
    assert not out.exists() or not list(out.glob("*.json"))


def test_a_label_names_only_the_values_that_concern_the_strategy() -> None:
    point = {"strategy_args.l2sp.alpha": 1, "train.lr": 0.001}
    assert point_label("naive", point) == "naive[lr=0.001]"
    assert point_label("l2sp+replay", point) == "l2sp+replay[alpha=1,lr=0.001]"
    assert point_label("naive", {"strategy_args.l2sp.alpha": 1}) == "naive"
    assert point_label("x", {"train.lr": 1, "eval.lr": 2}) == "x[train.lr=1,eval.lr=2]"
