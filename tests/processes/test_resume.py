"""Crash and resume for real: SIGKILL a run at several points, re-run the command, compare."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from benchmark.cli import main
from benchmark.core.faults import FAULT_ENV
from tests.conftest import write_toy_scenario

pytestmark = pytest.mark.slow  # starts processes or loads a real model: not in `make test-fast`

ROOT = Path(__file__).resolve().parents[2]
COMPARED = ("measures", "metrics", "data_hashes", "source_hashes", "parameters", "fingerprint", "status")


@pytest.fixture(scope="module")
def scenario(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_toy_scenario(tmp_path_factory.mktemp("toy"), n_tasks=3)


# Strategies that run only where tasks are posed as text.
FORMULATION = {"progressive_prompts": ("--formulation", "text"), "lamol": ("--formulation", "text")}


def command(scenario: Path, out: Path, strategy: str, *extra: str) -> list[str]:
    return [
        sys.executable, str(ROOT / "run_benchmark.py"), "--scenario", str(scenario), "--model", "tiny", "--strategies", strategy,
        "--out", str(out), "--no-progress", "--threads", "1", "--set", "train.epochs=2", "--set", "train.batch_size=8",
        "--set", "eval.ppl_tokens=256", "--set", "eval.ppl_context=32", *FORMULATION.get(strategy, ()), *extra,
    ]


def run(cmd: list[str], fault: str | None = None, cache: Path | None = None) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k != FAULT_ENV}
    env["PYTHONPATH"] = str(ROOT)
    if cache is not None:
        env["FORGETBENCH_CACHE"] = str(cache)
    if fault:
        env[FAULT_ENV] = fault
    return subprocess.run(cmd, capture_output=True, text=True, env=env, cwd=ROOT, timeout=300)


def in_process(cmd: list[str]) -> int:
    """``cmd``'s exit status, run through the CLI's entry point in this process (for runs nothing kills)."""
    return main(cmd[2:])  # without the interpreter and the script


def record(out: Path) -> dict:
    (path,) = list(out.glob("*.json"))
    return json.loads(path.read_text())


@pytest.fixture(scope="module")
def uninterrupted(scenario: Path, tmp_path_factory: pytest.TempPathFactory) -> dict[str, tuple[dict, Path]]:
    """Each strategy's record from a run that was never killed (made once per module, in this process), with its token cache."""
    references = {}
    with pytest.MonkeyPatch.context() as patch:
        for strategy in ("ewc+replay", "adapters", "wise_ft", "olora", "progressive_prompts", "lamol"):
            folder = tmp_path_factory.mktemp("reference")
            patch.setenv("FORGETBENCH_CACHE", str(folder / "cache"))
            assert in_process(command(scenario, folder / "out", strategy)) == 0
            references[strategy] = (record(folder / "out"), folder / "cache")
    return references


# Every kill point with the strategy that carries the most state; adapters (task modules) at two of them.
KILLS = [(s, f) for s in ("ewc+replay",) for f in ("task2:step3", "task2:eval", "task1:checkpointed", "task2:checkpointed")]
KILLS += [("adapters", "task2:step3"), ("adapters", "task1:checkpointed"), ("wise_ft", "task2:step3"), ("olora", "task2:step3")]
KILLS += [("progressive_prompts", "task2:step3"), ("progressive_prompts", "task2:checkpointed"), ("lamol", "task3:step3")]


@pytest.mark.parametrize(("strategy", "fault"), KILLS)
def test_killed_run_resumes_to_the_uninterrupted_record(
    scenario: Path, tmp_path: Path, strategy: str, fault: str, uninterrupted: dict[str, tuple[dict, Path]],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    reference, cache = uninterrupted[strategy]
    out = tmp_path / "interrupted"
    killed = run(command(scenario, out, strategy), fault=fault, cache=cache)
    assert killed.returncode == -signal.SIGKILL, killed.stderr
    assert not list(out.glob("*.json"))  # no record, not even a partial one
    checkpoints = list((out / ".checkpoints").glob("*.pt"))
    assert len(checkpoints) == 1 and not list((out / ".checkpoints").glob("*.tmp"))

    monkeypatch.setenv("FORGETBENCH_CACHE", str(cache))
    assert in_process(command(scenario, out, strategy)) == 0  # nothing kills it: no second interpreter to start
    again = record(out)
    for key in COMPARED:
        assert again[key] == reference[key], key  # bit-identical numbers on CPU
    expected_from = {"task2:step3": 1, "task2:eval": 1, "task1:checkpointed": 1, "task2:checkpointed": 2, "task3:step3": 2}[fault]
    assert again["extra"]["resumed_from_task"] == expected_from
    assert not list((out / ".checkpoints").glob("*.pt"))  # deleted once the run finished


def test_finished_runs_are_skipped_and_a_changed_config_is_refused(
    scenario: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str],
) -> None:
    # Nothing is killed here, so the four runs go through the CLI's entry point in this process.
    out = tmp_path / "out"

    def run_in_process(*extra: str) -> tuple[int, str]:
        status = in_process(command(scenario, out, "naive", *extra))
        return status, capsys.readouterr().err

    assert run_in_process("--keep-checkpoints")[0] == 0
    first = record(out)
    assert list((out / ".checkpoints").glob("*.pt"))  # kept on request
    assert run_in_process("--resume")[0] == 0
    assert record(out)["created_at"] == first["created_at"]  # skipped, not redone
    status, stderr = run_in_process("--lr", "0.01")
    assert status == 2
    assert "made with a different configuration; pass --overwrite" in stderr and stderr.count("\n") == 1
    assert run_in_process("--lr", "0.01", "--overwrite")[0] == 0
    assert record(out)["config"]["train"]["lr"] == 0.01


def test_a_killed_generative_run_resumes_to_the_uninterrupted_record(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Killed while generating the second task's outputs; the resumed record equals one never killed, outputs included.

    Sampled decoding: its draws are seeded per task, row and batch, so a resumed run must draw the same (greedy has no draws).
    """
    decode = "sample"
    from tests.conftest import write_free_text_scenario

    scenario = write_free_text_scenario(tmp_path / "free", metrics=("rouge_l", "exact_match", "edit_similarity"))
    cache = tmp_path / "cache"
    monkeypatch.setenv("FORGETBENCH_CACHE", str(cache))
    assert in_process(command(scenario, tmp_path / "reference", "naive", "--decode", decode)) == 0
    reference = record(tmp_path / "reference")
    out = tmp_path / "interrupted"
    killed = run(command(scenario, out, "naive", "--decode", decode), fault="task2:eval", cache=cache)
    assert killed.returncode == -signal.SIGKILL, killed.stderr
    assert not list(out.glob("*.json"))
    assert in_process(command(scenario, out, "naive", "--decode", decode)) == 0
    again = record(out)
    for key in COMPARED:
        assert again[key] == reference[key], key
    for key in ("references", "prompts"):  # what validate and samples read (the rest of extra: timings, where it resumed)
        assert again["extra"][key] == reference["extra"][key], key
    assert again["measures"]["generations"] == reference["measures"]["generations"]  # every output, bit for bit
    assert again["extra"]["resumed_from_task"] == 1
