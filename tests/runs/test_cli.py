"""The command line: listing, a full smoke run, and bad input (exit 2, one line, nothing written)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from benchmark.cli import main
from tests.conftest import smoke_args

pytestmark = pytest.mark.slow  # starts processes or loads a real model: not in `make test-fast`

ROOT = Path(__file__).resolve().parents[2]


def test_list_shows_registered_names(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--list"]) == 0
    out = capsys.readouterr().out
    for expected in ("Scenarios:", "default", "Strategies:", "naive", "Metrics", "forgetting ↓", "acc ↑", "Models:", "tiny", "smollm2-135m", "smoke",
                     "Experiment trackers", "tensorboard", "mlflow", "wandb"):
        assert expected in out


def test_the_list_subcommand_is_the_list_flag(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--list"]) == 0
    flag = capsys.readouterr().out
    assert main(["list"]) == 0
    assert capsys.readouterr().out == flag


@pytest.mark.parametrize("subcommand", ["run", "list", "leaderboard", "plan"])
def test_every_subcommand_has_its_own_help(subcommand: str, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as stopped:
        main([subcommand, "--help"])
    assert stopped.value.code == 0
    shown = capsys.readouterr().out
    assert shown.startswith(f"usage: forgetbench {subcommand}") and "--" in shown
    with pytest.raises(SystemExit):
        main(["--help"])
    assert f"`forgetbench {subcommand}" in capsys.readouterr().out  # the top-level help names it


def test_run_prints_a_table_and_writes_records(toy_scenario: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out_dir = tmp_path / "results"
    assert main(["run", *smoke_args(toy_scenario, out_dir, "--seeds", "0")]) == 0  # `forgetbench run FLAGS` is FLAGS alone
    assert main(smoke_args(toy_scenario, out_dir, "--seeds", "0,1")) == 0  # seed 0 is recorded already: skipped
    printed = capsys.readouterr().out
    assert "| toy " in printed and "ACC ↑ (%)" in printed and "Forgetting ↓ (%)" in printed
    assert len(list(out_dir.glob("*.json"))) == 2
    assert main(["leaderboard", "--results", str(out_dir)]) == 0
    assert "naive" in capsys.readouterr().out


def test_console_entry_point_runs_as_a_script() -> None:
    done = subprocess.run([sys.executable, str(ROOT / "run_benchmark.py"), "--list"], capture_output=True, text=True, cwd=ROOT)
    assert done.returncode == 0 and "naive" in done.stdout
