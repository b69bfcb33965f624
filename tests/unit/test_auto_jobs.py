"""``--jobs auto``: one single-thread worker per physical core, capped by the runs and by memory."""

from __future__ import annotations

from collections.abc import Callable
from types import SimpleNamespace

import pytest
import torch

import benchmark.suite.runner as runner
from benchmark.cli import overrides_from_args, run_parser
from benchmark.core.config import SuiteConfig
from benchmark.suite.config import build_config
from benchmark.core.errors import UserError


def config_from(*argv: str) -> SuiteConfig:
    return build_config(overrides=overrides_from_args(run_parser().parse_args(list(argv))))


Machine = Callable[[int, int], None]


def fake_setup(device: str = "cpu", processes: int = 1) -> SimpleNamespace:
    return SimpleNamespace(parallel=SimpleNamespace(processes=processes), device=torch.device(device), backbone=None, environment={"launcher": "local"})


@pytest.fixture
def machine(monkeypatch: pytest.MonkeyPatch) -> Callable[[int, int], None]:
    """A machine with ``cores`` physical cores whose memory holds ``fit`` runs."""
    def make(cores: int, fit: int) -> None:
        monkeypatch.setattr(runner, "physical_cores", lambda: cores)
        monkeypatch.setattr(runner, "runs_that_fit", lambda *args: fit)
    return make


def resolved(config: SuiteConfig, runs: int, setup: SimpleNamespace | None = None) -> tuple[str, int, str]:
    setup = setup or fake_setup()
    out = runner.resolve_auto_jobs(config, setup, [], 64, runs)
    return out.launch.launcher, out.launch.jobs, setup.environment["launcher"]


def test_the_flag_selects_the_local_launcher_and_stays_auto_until_the_suite_is_known() -> None:
    config = config_from("--jobs", "auto")
    assert (config.launch.launcher, config.launch.jobs) == ("local", "auto")


@pytest.mark.parametrize(("cores", "fit", "runs", "expected"), [
    (2, 100, 6, ("local", 2, "local")),        # the default suite on the reference machine
    (16, 100, 6, ("local", 6, "local")),       # never more workers than runs
    (16, 3, 6, ("local", 3, "local")),         # nor more than fit in memory
    (2, 100, 1, ("sequential", 1, "sequential")),  # one run gets every core
    (8, 1, 6, ("sequential", 1, "sequential")),    # so does a run of which only one fits
])
def test_the_count_is_the_smallest_of_cores_runs_and_memory(machine: Machine, cores: int, fit: int, runs: int, expected: tuple) -> None:
    machine(cores, fit)
    assert resolved(config_from("--jobs", "auto"), runs) == expected


def test_threads_per_run_divide_the_cores(machine: Machine) -> None:
    machine(8, 100)
    assert resolved(config_from("--jobs", "auto", "--threads", "4"), 6)[:2] == ("local", 2)


@pytest.mark.parametrize("setup", [fake_setup(device="cuda:0"), fake_setup(processes=2)], ids=["gpu", "accelerate"])
def test_a_gpu_run_or_one_spread_over_processes_keeps_the_machine(machine: Machine, setup: SimpleNamespace) -> None:
    machine(16, 100)
    assert resolved(config_from("--jobs", "auto"), 6, setup)[:2] == ("sequential", 1)


def test_a_number_is_left_alone(machine: Machine) -> None:
    machine(16, 100)
    config = config_from("--jobs", "3")
    assert runner.resolve_auto_jobs(config, fake_setup(), [], 64, 6) is config


def test_another_word_is_refused_with_the_choices() -> None:
    with pytest.raises(UserError, match="launch.jobs"):
        config_from("--jobs", "many")


@pytest.mark.parametrize(("omp", "expected"), [("3", 3), (None, "cores"), ("", "cores"), ("0", "cores"), ("two", "cores")])
def test_a_sequential_run_without_threads_takes_omp_num_threads_else_the_physical_cores(
    monkeypatch: pytest.MonkeyPatch, omp: str | None, expected: int | str
) -> None:
    from benchmark.core import environment
    from benchmark.suite.setup import run_threads

    monkeypatch.setattr(environment, "physical_cores", lambda: 5)
    if omp is None:
        monkeypatch.delenv("OMP_NUM_THREADS", raising=False)
    else:
        monkeypatch.setenv("OMP_NUM_THREADS", omp)
    assert run_threads(config_from()) == (5 if expected == "cores" else expected)
    assert run_threads(config_from("--threads", "2")) == 2  # the flag wins
