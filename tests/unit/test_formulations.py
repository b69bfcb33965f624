"""The formulation contract: only formulation implementations branch on how a task is posed.

A test over the syntax tree of every module finds no comparison of a formulation
name outside ``benchmark/engine/formulations/``; a third formulation defined in a
user's file (``--plugins``), exactly as docs/extending.md shows it, runs end to end
with no edit to the project.
"""

from __future__ import annotations

import ast
import json
from pathlib import Path

import pytest

from benchmark.cli import main
from benchmark.engine.formulations import FORMULATIONS
from tests.conftest import smoke_args, write_toy_scenario

ROOT = Path(__file__).resolve().parents[2]
PROJECT = ("benchmark", "strategies", "scenarios", "leaderboard")
IMPLEMENTATIONS = ROOT / "benchmark" / "engine" / "formulations"


def _names_formulation(node: ast.AST) -> bool:
    """``x.formulation``, ``x.get("formulation")``, ``x["formulation"]`` or a name spelling ``formulation``."""
    if isinstance(node, ast.Attribute):
        return node.attr == "formulation"
    if isinstance(node, ast.Name):
        return "formulation" in node.id
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == "get":
        return bool(node.args) and isinstance(node.args[0], ast.Constant) and node.args[0].value == "formulation"
    if isinstance(node, ast.Subscript):
        return isinstance(node.slice, ast.Constant) and node.slice.value == "formulation"
    return False


def formulation_tests(source: str, names: set[str]) -> list[str]:
    """Every comparison in ``source`` that asks how a task is posed.

    That is: a formulation compared with a string (``config.formulation == "text"``), a
    registered formulation's name compared with anything, or whether a task carries
    the text formulation's data (``task.text is None``).
    """
    found = []
    for node in ast.walk(ast.parse(source)):
        if not isinstance(node, ast.Compare):
            continue
        operands = [node.left, *node.comparators]
        strings = [o for o in operands if isinstance(o, ast.Constant) and isinstance(o.value, str)]
        named = any(_names_formulation(o) for o in operands) and bool(strings)
        constant = any(o.value in names - {"text"} for o in strings)  # "text" is also a common field name
        text_data = any(isinstance(o, ast.Attribute) and o.attr == "text" for o in operands) and any(
            isinstance(o, ast.Constant) and o.value is None for o in operands)
        if named or constant or text_data:
            found.append(f"line {node.lineno}: {ast.unparse(node)}")
    return found


def test_no_module_outside_the_formulations_tests_a_formulation() -> None:
    names = set(FORMULATIONS.names())
    offenders = {
        str(path.relative_to(ROOT)): hits
        for package in PROJECT for path in sorted((ROOT / package).rglob("*.py"))
        if IMPLEMENTATIONS not in path.parents and (hits := formulation_tests(path.read_text(encoding="utf-8"), names))
    }
    assert offenders == {}


@pytest.mark.parametrize("source", [
    'if config.formulation == "text":\n    pass',
    'if record.config.get("formulation", "heads") != "text":\n    pass',
    'posed = "heads" if kind else "other"\nok = posed == "heads"',
    'if task.text is None:\n    pass',
])
def test_the_checker_sees_a_formulation_test(source: str) -> None:
    assert formulation_tests(source, {"heads", "text"})


EXTENDING = ROOT / "docs" / "extending.md"


def documented_plugin() -> str:
    """The formulation exactly as the "Adding a formulation" section of docs/extending.md shows it."""
    section = EXTENDING.read_text(encoding="utf-8").split("## Adding a formulation", 1)[1]
    return section.split("```python\n", 1)[1].split("```", 1)[0]


def test_a_formulation_in_a_users_file_runs_with_no_edit_to_the_project(tmp_path: Path) -> None:
    scenario = write_toy_scenario(tmp_path / "toy", n_tasks=2, n_per_class=20, train_size=16, test_size=10)
    plugin = tmp_path / "smoothed.py"
    plugin.write_text(documented_plugin(), encoding="utf-8")
    base = ["--set", "eval.ppl_tokens=0", "--threads", "1", "--seeds", "0"]
    assert main(smoke_args(scenario, tmp_path / "heads", *base)) == 0
    assert main(smoke_args(scenario, tmp_path / "smooth", *base, "--plugins", str(plugin), "--formulation", "smoothed_heads")) == 0
    heads, = (tmp_path / "heads").rglob("*naive*.json")
    smooth, = (tmp_path / "smooth").rglob("*naive*.json")
    a, b = json.loads(heads.read_text()), json.loads(smooth.read_text())
    assert b["config"]["formulation"] == "smoothed_heads"
    assert a["fingerprint"] != b["fingerprint"]  # a plug-in formulation never shares a run id's fingerprint with heads
    # Row 0 is the same untrained heads; the smoothed loss trains them to a different place.
    assert a["measures"]["accuracy"][0] == b["measures"]["accuracy"][0]
    assert a["measures"]["accuracy"][1:] != b["measures"]["accuracy"][1:]


def test_an_unknown_formulation_is_one_sentence_with_close_matches(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    scenario = write_toy_scenario(tmp_path / "toy", n_tasks=2, n_per_class=20, train_size=16, test_size=10)
    assert main(smoke_args(scenario, tmp_path / "out", "--formulation", "txt")) == 2
    err = capsys.readouterr().err.strip()
    assert "unknown formulation 'txt' in --formulation; did you mean 'text'?" in err and len(err.splitlines()) == 1
    assert not (tmp_path / "out").exists() or not any((tmp_path / "out").rglob("*.json"))
