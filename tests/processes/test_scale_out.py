"""Scale-out: one run over several processes (accelerate), a suite over workers (local, Ray).

Every comparison runs with one torch thread per run, so that the launchers differ in
nothing but how runs are placed; CPU float results then match bit for bit between
launchers. Across accelerate processes gradients are summed in another order, so that
comparison has a stated tolerance.
"""

from __future__ import annotations

import json
import os
import random
import subprocess
import sys
from pathlib import Path

import pytest

from benchmark.model.batching import micro_batches
from benchmark.core.faults import FAULT_ENV
from scenarios.catalog import load_scenario
from tests.conftest import write_toy_scenario

# slow: starts processes (not in `make test-fast`); one xdist worker runs the whole file, since accelerate
# rendezvous on one fixed port and Ray clusters started side by side would meet.
pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("scale_out")]

ROOT = Path(__file__).resolve().parents[2]
NUMBERS = ("measures", "metrics", "parameters", "fingerprint", "status", "data_hashes")
EWC = ("--set", "strategy_args.ewc.fisher_samples=12")
SUITE = ("--strategies", "naive,ewc", "--seeds", "0,1", *EWC)


@pytest.fixture(scope="module")
def scenario(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_toy_scenario(tmp_path_factory.mktemp("toy"), n_tasks=2, n_per_class=40, train_size=40, test_size=24)


def command(scenario: Path, out: Path, *extra: str) -> list[str]:
    return [
        str(ROOT / "run_benchmark.py"), "--scenario", str(scenario), "--model", "tiny", "--out", str(out),
        "--no-progress", "--threads", "1", "--set", "train.lr=0.003", "--set", "train.head_lr=0.01",
        "--set", "train.batch_size=8", "--set", "eval.ppl_tokens=256", "--set", "eval.ppl_context=32", *extra,
    ]


def run(args: list[str], *, launcher: list[str] | None = None, fault: str | None = None, cache: Path) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k != FAULT_ENV}
    env.update(PYTHONPATH=str(ROOT), FORGETBENCH_CACHE=str(cache))
    if fault:
        env[FAULT_ENV] = fault
    return subprocess.run([*(launcher or [sys.executable]), *args], capture_output=True, text=True, env=env, cwd=ROOT, timeout=600)


def records(out: Path) -> dict[str, dict]:
    return {path.stem: json.loads(path.read_text()) for path in sorted(out.glob("*.json"))}


def numbers(record: dict) -> dict:
    return {key: record[key] for key in NUMBERS}


# -- how one optimizer step's batch is shared out ---------------------------------------------


@pytest.mark.parametrize("processes,accumulation,size", [(1, 1, 8), (2, 1, 8), (2, 1, 7), (3, 2, 8), (4, 4, 5), (4, 1, 3)])
def test_micro_batches_cover_the_batch_and_weight_to_its_mean_loss(processes: int, accumulation: int, size: int) -> None:
    batch = list(range(100, 100 + size))
    losses = {i: random.Random(i).uniform(0, 5) for i in batch}
    shares = [micro_batches(batch, processes=processes, rank=r, accumulation=accumulation) for r in range(processes)]
    covered = [i for rank in shares for micro, weight in rank if weight > 0 for i in micro]
    assert covered == batch  # every example once, in order, across ranks and micro-batches
    # DDP averages gradients over processes; each process sums its weighted micro-batch means.
    averaged = sum(w * sum(losses[i] for i in m) / len(m) for rank in shares for m, w in rank) / processes
    assert averaged == pytest.approx(sum(losses.values()) / size, rel=1e-12)
    assert all(len(rank) >= 1 for rank in shares)  # every process joins the all-reduce, even with nothing to do


def test_one_process_without_accumulation_is_the_plain_batch() -> None:
    assert micro_batches([3, 1, 2], processes=1, rank=0, accumulation=1) == [([3, 1, 2], 1.0)]


# -- one run across processes with accelerate ----------------------------------------------------


ACCELERATE = [sys.executable, "-m", "accelerate.commands.launch", "--multi_gpu", "--num_processes", "2",
              "--num_machines", "1", "--mixed_precision", "no", "--dynamo_backend", "no"]


def test_two_processes_reduce_gradients_fisher_and_accuracy_to_the_single_process_values(tmp_path: Path) -> None:
    """An 11-example step on 2 processes x 2 micro-batches: DDP's gradient is the whole batch's, and so on."""
    import torch

    probe = str(ROOT / "tests" / "processes" / "ddp_probe.py")
    alone = run([probe, str(tmp_path / "alone.pt"), "1"], cache=tmp_path / "cache")
    shared = run([probe, str(tmp_path / "shared.pt"), "2"], launcher=ACCELERATE, cache=tmp_path / "cache")
    assert alone.returncode == 0 and shared.returncode == 0, alone.stderr + shared.stderr
    one, two = torch.load(tmp_path / "alone.pt"), torch.load(tmp_path / "shared.pt")
    assert (one["processes"], two["processes"]) == (1, 2)
    assert one["grads"].keys() == two["grads"].keys() and len(one["grads"]) > 10
    for name, grad in one["grads"].items():  # float32 sums in another order: relative error ~1e-7
        assert torch.allclose(two["grads"][name], grad, rtol=1e-4, atol=1e-4 * float(grad.abs().max())), name
    for name, fisher in one["fisher"].items():
        assert torch.allclose(two["fisher"][name], fisher, rtol=1e-4, atol=1e-4 * float(fisher.abs().max())), name
    assert two["accuracy"] == one["accuracy"]


def test_accelerate_two_cpu_processes_match_one_process(scenario: Path, tmp_path: Path) -> None:
    """2 gloo processes, same global batch: the record matches one process within 1 test example; one record."""
    args = ["--strategies", "ewc+replay", "--set", "strategy_args.replay.buffer_size=16", *EWC]
    single = run(command(scenario, tmp_path / "single", *args), cache=tmp_path / "cache")
    assert single.returncode == 0, single.stderr
    double = run(command(scenario, tmp_path / "double", *args), launcher=ACCELERATE, cache=tmp_path / "cache")
    assert double.returncode == 0, double.stderr
    (one,) = records(tmp_path / "single").values()
    written = records(tmp_path / "double")
    assert len(written) == 1  # only the main process writes
    (two,) = written.values()
    assert two["environment"]["processes"] == 2 and one["environment"]["processes"] == 1
    assert two["fingerprint"] == one["fingerprint"]
    assert not list((tmp_path / "double").glob(".checkpoints/*"))
    test_size = 24
    for row_one, row_two in zip(one["measures"]["accuracy"], two["measures"]["accuracy"]):
        for a, b in zip(row_one, row_two):
            assert (a is None) == (b is None)
            if a is not None:
                assert abs(a - b) <= 1 / test_size + 1e-9  # a float-order difference may flip one prediction
    assert two["measures"]["perplexity"] == pytest.approx(one["measures"]["perplexity"], rel=2e-3)
    assert two["measures"]["accuracy"][0] == one["measures"]["accuracy"][0]  # row 0: same model, sharded evaluation


def test_gradient_accumulation_matches_the_whole_batch(scenario: Path, tmp_path: Path) -> None:
    """batch 8 as 4 micro-batches of 2 trains like batch 8 at once (naive: no per-call sampling)."""
    whole = run(command(scenario, tmp_path / "whole", "--strategies", "naive"), cache=tmp_path / "cache")
    split = run(command(scenario, tmp_path / "split", "--strategies", "naive", "--grad-accum", "4"), cache=tmp_path / "cache")
    assert whole.returncode == 0 and split.returncode == 0, whole.stderr + split.stderr
    (a,) = records(tmp_path / "whole").values()
    (b,) = records(tmp_path / "split").values()
    assert a["config"]["train"]["grad_accum_steps"] == 1 and b["config"]["train"]["grad_accum_steps"] == 4
    assert b["measures"]["perplexity"] == pytest.approx(a["measures"]["perplexity"], rel=1e-3)
    flat_a = [x for row in a["measures"]["accuracy"] for x in row if x is not None]
    flat_b = [x for row in b["measures"]["accuracy"] for x in row if x is not None]
    assert max(abs(x - y) for x, y in zip(flat_a, flat_b)) <= 1 / 24 + 1e-9


# -- a suite across worker processes -------------------------------------------------------------


@pytest.fixture(scope="module")
def sequential(scenario: Path, tmp_path_factory: pytest.TempPathFactory) -> dict[str, dict]:
    """The 2-strategy x 2-seed suite with the sequential launcher: the reference."""
    out = tmp_path_factory.mktemp("sequential")
    done = run(command(scenario, out, *SUITE), cache=tmp_path_factory.mktemp("cache"))
    assert done.returncode == 0, done.stderr
    found = records(out)
    assert len(found) == 4
    return found


def test_local_jobs_two_equals_sequential(scenario: Path, tmp_path: Path, sequential: dict[str, dict]) -> None:
    # One worker (--jobs 1) is compared with the sequential suite by the killed-worker test below.
    # --jobs 2 alone, without --launcher: it means the local launcher.
    out = tmp_path / "jobs2"
    done = run(command(scenario, out, *SUITE, "--jobs", "2"), cache=tmp_path / "cache")
    assert done.returncode == 0, done.stderr
    found = records(out)
    assert found.keys() == sequential.keys()
    for name, record in found.items():
        assert numbers(record) == numbers(sequential[name]), name
        assert record["environment"]["launcher"] == "local"
        assert record["config"]["launch"] == {**record["config"]["launch"], "launcher": "local", "jobs": 2}
    assert len(list((out / ".cache" / "row0").glob("*.json"))) == 2  # one row 0 per seed, not per run


def test_a_killed_local_worker_leaves_the_finished_runs_and_a_rerun_completes_the_rest(scenario: Path, tmp_path: Path, sequential: dict[str, dict]) -> None:
    out = tmp_path / "out"
    args = command(scenario, out, *SUITE, "--launcher", "local", "--jobs", "1")
    killed = run(args, fault="toy__o1__ewc__s1@task2:step2", cache=tmp_path / "cache")
    assert killed.returncode == 1, killed.stderr
    assert "toy__o1__ewc__s1" in killed.stderr and "running the same command again" in killed.stderr
    assert "toy__o1__ewc__s1" not in records(out)
    again = run(args, cache=tmp_path / "cache")
    assert again.returncode == 0, again.stderr
    assert {name: numbers(r) for name, r in records(out).items()} == {name: numbers(r) for name, r in sequential.items()}


# -- a suite as Ray tasks ------------------------------------------------------------------------

def _needs_ray() -> None:
    if os.environ.get("FORGETBENCH_REQUIRE_RAY") == "1":
        import ray  # noqa: F401 - CI must have it: fail, do not skip
    else:
        pytest.importorskip("ray", reason="ray is not installed (pip install 'forgetbench[ray]')")


def test_ray_suite_equals_sequential_and_a_killed_worker_is_completed_by_a_rerun(scenario: Path, tmp_path: Path, sequential: dict[str, dict]) -> None:
    _needs_ray()
    out = tmp_path / "ray"
    args = command(scenario, out, *SUITE, "--launcher", "ray", "--cpus-per-run", "1")
    killed = run(args, fault="toy__o1__ewc__s1@task2:step2", cache=tmp_path / "cache")
    assert killed.returncode == 1, killed.stderr
    assert "toy__o1__ewc__s1" in killed.stderr and "worker died" in killed.stderr
    survivors = records(out)
    assert sorted(survivors) == sorted(set(sequential) - {"toy__o1__ewc__s1"})
    checkpoint = out / ".checkpoints" / "toy__o1__ewc__s1.pt"
    assert checkpoint.is_file()  # task 1 of the killed run was saved; the rerun continues from it
    stamps = {name: (out / f"{name}.json").stat().st_mtime_ns for name in survivors}

    again = run(args, cache=tmp_path / "cache")
    assert again.returncode == 0, again.stderr
    final = records(out)
    assert {name: numbers(r) for name, r in final.items()} == {name: numbers(r) for name, r in sequential.items()}
    assert {name: (out / f"{name}.json").stat().st_mtime_ns for name in survivors} == stamps  # finished runs untouched
    assert final["toy__o1__ewc__s1"]["extra"]["resumed_from_task"] == 1
    assert all(r["environment"]["launcher"] == "ray" for r in final.values())
    assert not checkpoint.exists()


@pytest.mark.parametrize("launcher", ["local", "ray"])
def test_workers_use_the_suites_one_row0_evaluation(scenario: Path, tmp_path: Path, launcher: str) -> None:
    """Row 0 is evaluated once by the driver and handed to every run: a planted row 0 shows up in every record."""
    from benchmark.cli import overrides_from_args, run_parser
    from benchmark.suite.config import build_config
    from benchmark.engine.parallel import make_parallel
    from benchmark.engine.row0_cache import RowZero
    from benchmark.suite.planning import plan_runs
    from benchmark.suite.setup import setup_suite

    if launcher == "ray":
        _needs_ray()
    out = tmp_path / "out"
    args = command(scenario, out, "--strategies", "naive,frozen", "--launcher", launcher, "--cpus-per-run", "1")
    config = build_config(overrides=overrides_from_args(run_parser().parse_args(args[1:])))
    setup = setup_suite(config, threads=1, parallel=make_parallel("cpu", "fp32"), launcher="sequential", spec=load_scenario(config.scenario))
    (key,) = {run.row0_key for run in plan_runs(setup, config, [1])}
    planted = RowZero(values={"accuracy": [0.125, 0.25], "perplexity": 321.0, "bits_per_byte": 1.5}, seconds=0.0)
    (out / ".cache" / "row0").mkdir(parents=True)
    (out / ".cache" / "row0" / f"{key}.json").write_text(json.dumps(planted.__dict__))

    done = run(args, cache=tmp_path / "cache")
    assert done.returncode == 0, done.stderr
    found = records(out)
    assert len(found) == 2
    for record in found.values():
        assert record["measures"]["accuracy"][0] == planted.values["accuracy"] and record["measures"]["perplexity"][0] == planted.values["perplexity"]
        assert record["environment"]["launcher"] == launcher


def test_a_worker_runs_on_the_drivers_data_without_the_source_files(tmp_path: Path) -> None:
    """What a Ray node without the data files sees: the task CSVs are gone, the shipped data suffices."""
    from benchmark.suite.config import build_config
    from benchmark.suite.launchers.worker import run_in_worker
    from benchmark.engine.parallel import make_parallel
    from benchmark.engine.measuring import compute_row0
    from benchmark.suite.planning import plan_runs
    from benchmark.suite.setup import setup_suite

    scenario = write_toy_scenario(tmp_path / "toy", n_tasks=2, n_per_class=30, train_size=20, test_size=12)
    config = build_config(overrides=[{
        "scenario": str(scenario), "model": "tiny", "strategies": ["naive"], "out": str(tmp_path / "out"), "progress": False,
        "threads": 1, "train": {"batch_size": 8}, "eval": {"ppl_tokens": 128, "ppl_context": 32},
    }])
    driver = setup_suite(config, threads=1, parallel=make_parallel("cpu", "fp32"), launcher="local", spec=load_scenario(config.scenario))
    (planned,) = plan_runs(driver, config, [1])
    row0 = compute_row0(driver.backbone, driver.tasks(config, 1, 0), 0, driver.measures, driver.measure_env, driver.device)
    for csv in (tmp_path / "toy").glob("*.csv"):
        csv.unlink()
    record = run_in_worker(config, planned, row0, driver.data, str(tmp_path / "out"), "local")
    assert record["status"] == "finished" and record["fingerprint"] == planned.fingerprint
    assert record["measures"]["accuracy"][0] == row0.values["accuracy"]
