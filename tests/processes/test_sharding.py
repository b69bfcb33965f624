"""``--sharding fsdp`` over two gloo processes gives the one-process record, and a killed sharded run resumes to it.

Seven strategies (and a reference: joint with heads, icl in text) run as one suite per formulation (one launch each, so the whole file
costs five process starts). FSDP reduce-scatters gradients where one process sums them,
and a sharded penalty sums its parts over processes, so floats may differ in the last
bits: accuracy matrices must be identical, perplexity and the metrics within 1e-4
relative (observed: at most 3e-5, on distill's KL mean).
"""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from tests.conftest import write_toy_scenario
from tests.processes.test_scale_out import command, records, run

# slow: starts processes. Its own rendezvous port, so it may run beside test_scale_out's launches.
pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("sharding")]

STRATEGIES = ("naive", "ewc", "l2sp", "lora", "replay", "distill", "wise_ft")
ARGUMENTS = ("--set", "strategy_args.ewc.fisher_samples=12", "--set", "strategy_args.replay.buffer_size=16")
SUITE = ("--strategies", ",".join((*STRATEGIES, "joint")), *ARGUMENTS)  # heads: and the multitask reference
TEXT_SUITE = ("--strategies", ",".join((*STRATEGIES, "icl")), *ARGUMENTS)  # text: and the in-context reference
LAUNCH = ["-m", "accelerate.commands.launch", "--multi_gpu", "--num_processes", "2", "--num_machines", "1",
          "--mixed_precision", "no", "--dynamo_backend", "no", "--main_process_port", "29613"]
SHARDED = ("--sharding", "fsdp", "--device", "cpu")
TOLERANCE = 1e-4


@pytest.fixture(scope="module")
def scenario(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_toy_scenario(tmp_path_factory.mktemp("toy"), n_tasks=2, n_per_class=40, train_size=40, test_size=24)


def launcher() -> list[str]:
    return [sys.executable, *LAUNCH]


def assert_same_record(sharded: dict, alone: dict) -> None:
    """The sharded record is the one-process record: accuracy identical, perplexity and metrics to TOLERANCE."""
    name = alone["strategy"]
    assert sharded["environment"]["processes"] == 2 and alone["environment"]["processes"] == 1
    assert sharded["config"]["train"]["sharding"] == "fsdp" and sharded["fingerprint"] == alone["fingerprint"]
    assert sharded["measures"]["accuracy"] == alone["measures"]["accuracy"], name
    for a, b in zip(sharded["measures"]["perplexity"], alone["measures"]["perplexity"], strict=True):  # joint skips middle rows
        assert (a is None and b is None) or a == pytest.approx(b, rel=TOLERANCE), name
    assert sharded["metrics"].keys() == alone["metrics"].keys()
    for metric, value in alone["metrics"].items():
        if isinstance(value, float):
            assert sharded["metrics"][metric] == pytest.approx(value, rel=TOLERANCE, abs=1e-9, nan_ok=True), (name, metric)
        else:
            assert sharded["metrics"][metric] == value, (name, metric)
    # Strategy state is counted whole (EWC's Fisher and anchor, L2-SP's anchor, distill's teacher), though each process holds a part.
    assert sharded["parameters"] == alone["parameters"], name


def test_sharded_text_suite_gives_the_one_process_records(scenario: Path, tmp_path: Path) -> None:
    text = ("--formulation", "text", *TEXT_SUITE, "--set", "strategy_args.ewc.anchor=pretrained")  # the heads test anchors on tasks
    alone = run(command(scenario, tmp_path / "alone", *text), cache=tmp_path / "cache")
    assert alone.returncode == 0, alone.stderr
    sharded = run(command(scenario, tmp_path / "sharded", *text, *SHARDED), launcher=launcher(), cache=tmp_path / "cache")
    assert sharded.returncode == 0, sharded.stderr[-3000:]
    one, two = records(tmp_path / "alone"), records(tmp_path / "sharded")
    assert sorted(one) == sorted(two) and len(one) == len(STRATEGIES) + 1
    for run_id, record in one.items():
        assert_same_record(two[run_id], record)
    assert one["toy__o1__naive__s0"]["measures"]["accuracy"][-1] != one["toy__o1__naive__s0"]["measures"]["accuracy"][0]  # it trained


def test_a_sharded_run_killed_mid_task_resumes_from_its_parts_to_the_one_process_record(scenario: Path, tmp_path: Path) -> None:
    alone = run(command(scenario, tmp_path / "alone", *SUITE), cache=tmp_path / "cache")
    assert alone.returncode == 0, alone.stderr
    out = tmp_path / "sharded"
    killed = run(command(scenario, out, *SUITE, *SHARDED), launcher=launcher(), fault="toy__o1__ewc__s0@task2:step2", cache=tmp_path / "cache")
    assert killed.returncode != 0
    assert sorted(records(out)) == ["toy__o1__naive__s0"]  # the suite stopped in ewc's second task
    (folder,) = (out / ".checkpoints").glob("toy__o1__ewc__s0.shards-1")
    parts = sorted(p.stat().st_size for p in folder.glob("*.distcp"))
    assert len(parts) == 2 and parts[-1] < 0.75 * sum(parts)  # each process wrote its own half, none the whole model
    unsharded = run(command(scenario, out, *SUITE), cache=tmp_path / "cache")  # the parts cannot be read by one whole model
    assert unsharded.returncode == 2
    assert "is a checkpoint of run toy__o1__ewc__s0 made with --sharding fsdp; continue it with --sharding fsdp" in unsharded.stderr
    assert folder.is_dir() and sorted(records(out)) == ["toy__o1__naive__s0"]  # nothing was written or removed
    resumed = run(command(scenario, out, *SUITE, *SHARDED), launcher=launcher(), cache=tmp_path / "cache")
    assert resumed.returncode == 0, resumed.stderr[-3000:]
    one, two = records(tmp_path / "alone"), records(out)
    assert sorted(one) == sorted(two)
    assert two["toy__o1__ewc__s0"]["extra"]["resumed_from_task"] == 1
    for run_id, record in one.items():
        assert_same_record(two[run_id], record)
    ewc, naive = one["toy__o1__ewc__s0"]["measures"], one["toy__o1__naive__s0"]["measures"]
    assert ewc["perplexity"][-1] != naive["perplexity"][-1]  # the restored Fisher and anchor acted on task 2
    assert not list((out / ".checkpoints").iterdir())  # finished runs leave neither files nor parts
