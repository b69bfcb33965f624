"""The command line: listing, a full smoke run, and bad input (exit 2, one line, nothing written)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from benchmark.cli import main
from tests.conftest import smoke_args, write_toy_scenario

ROOT = Path(__file__).resolve().parents[1]


def test_list_shows_registered_names(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--list"]) == 0
    out = capsys.readouterr().out
    for expected in ("Scenarios:", "default", "Strategies:", "naive", "Metrics", "forgetting ↓", "acc ↑", "Models:", "tiny", "smollm2-135m", "smoke"):
        assert expected in out


def test_run_prints_a_table_and_writes_records(toy_scenario: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out_dir = tmp_path / "results"
    assert main(smoke_args(toy_scenario, out_dir, "--seeds", "0,1")) == 0
    printed = capsys.readouterr().out
    assert "| toy " in printed and "ACC ↑ (%)" in printed and "Forgetting ↓ (%)" in printed
    assert len(list(out_dir.glob("*.json"))) == 2
    assert main(["leaderboard", "--results", str(out_dir)]) == 0
    assert "naive" in capsys.readouterr().out


def test_console_entry_point_runs_as_a_script() -> None:
    done = subprocess.run([sys.executable, str(ROOT / "run_benchmark.py"), "--list"], capture_output=True, text=True, cwd=ROOT)
    assert done.returncode == 0 and "naive" in done.stdout


def _write(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


BAD_INPUTS = {
    "unknown strategy": (lambda d, s: ["--strategies", "naiv"], "unknown strategy 'naiv' in --strategies; did you mean 'naive'?"),
    "unknown scenario": (lambda d, s: ["--scenario", "defualt"], "unknown scenario 'defualt' in --scenario; did you mean 'default'?"),
    "unknown model path": (lambda d, s: ["--model", "./no/such/model"], "model path './no/such/model' does not exist"),
    "malformed yaml config": (lambda d, s: ["--config", str(_write(d / "c.yaml", "seeds: [0,\n"))], "is not valid YAML at line"),
    "unknown config key": (lambda d, s: ["--config", str(_write(d / "c.yaml", "sedes: [0]\n"))], "unknown key 'sedes'; did you mean 'seeds'?"),
    "wrong type": (lambda d, s: ["--epochs", "two"], "field 'train.epochs' must be an integer, got 'two'"),
    "missing required field": (
        lambda d, s: ["--scenario", str(_write(d / "sc.yaml", s.read_text().replace("version: 1\n", "")))],
        "required field 'version' is missing",
    ),
    "label outside the label set": (
        lambda d, s: ["--scenario", str(_write(d / "sc.yaml", s.read_text().replace("labels: [neg, pos]", "labels: [neg, positive]")))],
        "label(s) 'pos' in 'label' are not in labels ['neg', 'positive']",
    ),
    "empty task": (
        lambda d, s: ["--scenario", str(_write(d / "sc.yaml", s.read_text().replace("labels: [neg, pos]", "labels: [neg, pos]\n    drop_labels: [neg, pos]")))],
        "no examples are left after dropping labels and duplicates",
    ),
    "unknown strategy argument": (lambda d, s: ["--set", "strategy_args.naive.alpha=1"], "strategy 'naive' does not take argument(s) ['alpha']"),
    "wrong strategy argument type": (
        lambda d, s: ["--strategies", "ewc", "--set", "strategy_args.ewc.mode=sideways"],
        "field 'strategy_args.ewc.mode' must be one of 'separate', 'online', got 'sideways'",
    ),
    "order out of range": (lambda d, s: ["--order", "7"], "--order 7 does not exist"),
    "unknown metric in eval_on": (lambda d, s: ["--eval-on", "seen"] + ["--set", "eval.eval_on=everything"], "field 'eval.eval_on' must be one of"),
}


@pytest.mark.parametrize("case", sorted(BAD_INPUTS))
def test_bad_input_is_one_line_exit_2_and_writes_nothing(case: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    scenario = write_toy_scenario(tmp_path / "toy")
    make_args, message = BAD_INPUTS[case]
    out_dir = tmp_path / "results"
    args = smoke_args(scenario, out_dir) + make_args(tmp_path, scenario)
    assert main(args) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: ") and err.count("\n") == 1, err
    assert message in err
    assert not out_dir.exists()
