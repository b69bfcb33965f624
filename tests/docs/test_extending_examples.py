"""The strategy example of docs/extending.md is real code, and its command runs exactly as written, through the shell."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from benchmark.cli import main
from benchmark.results.records import read_record, record_files

EXTENDING = Path(__file__).resolve().parents[2] / "docs" / "extending.md"


def strategy_section() -> str:
    return EXTENDING.read_text(encoding="utf-8").split("## Adding a strategy", 1)[1].split("\n## ", 1)[0]


def test_the_strategy_example_runs_through_the_shell_with_plugins(tmp_path: Path) -> None:
    section = strategy_section()
    code = re.search(r"```python\n(.*?)```", section, re.S).group(1)
    assert len(code.strip().splitlines()) <= 25
    name = re.match(r"# (\S+\.py)\n", code).group(1)
    (tmp_path / name).write_text(code, encoding="utf-8")
    command = re.search(r"```bash\n(.*?)\n```", section, re.S).group(1)
    assert command.startswith("forgetbench ") and f"--plugins {name}" in command
    env = {**os.environ, "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}", "OMP_NUM_THREADS": "1"}
    done = subprocess.run(command + " --no-progress", shell=True, cwd=tmp_path, env=env, capture_output=True, text=True, timeout=600)  # noqa: S602
    assert done.returncode == 0, done.stderr
    out = tmp_path / re.search(r"--out (\S+)", command).group(1)
    record = read_record(record_files(out)[0])
    assert record.strategy == "anchor_last" and record.status == "finished"
    assert record.config["strategy_args"] == {"anchor_last": {"weight": 0.1}} and record.config["plugins"] == [name]


@pytest.mark.parametrize(("plugin", "message"), [
    ("./absent.py", "plugin './absent.py' is not a file; pass --plugins a .py path that exists or a module name"),
    ("no_such_module_anywhere", "plugin 'no_such_module_anywhere' could not be imported (ModuleNotFoundError: No module named 'no_such_module_anywhere')"),
    ("broken.py", "plugin 'broken.py' could not be imported (ZeroDivisionError: division by zero)"),
])
def test_a_plugin_that_cannot_be_imported_is_one_sentence(plugin: str, message: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                          capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "broken.py").write_text("1 / 0\n")
    assert main(["--preset", "smoke", "--plugins", plugin, "--out", str(tmp_path / "out")]) == 2
    err = capsys.readouterr().err
    assert message in err and err.count("\n") == 1, err
    assert not (tmp_path / "out").exists()


def test_plugins_in_a_config_file_are_imported_before_the_run(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    from strategies.base import STRATEGIES

    monkeypatch.chdir(tmp_path)
    (tmp_path / "cfg_plugin.py").write_text(
        "from strategies.naive import Naive\nfrom strategies.base import register_strategy\n\n"
        "@register_strategy('cfg_naive')\nclass CfgNaive(Naive):\n    \"\"\"Naive, registered by a config file's plugin.\"\"\"\n"
    )
    (tmp_path / "c.yaml").write_text("plugins: [cfg_plugin.py]\nstrategies: [cfg_naive]\n")
    try:
        assert main(["--preset", "smoke", "--config", "c.yaml", "--out", "out", "--no-progress"]) == 0, capsys.readouterr().err
        assert [read_record(p).strategy for p in record_files(tmp_path / "out")] == ["cfg_naive"]
    finally:
        STRATEGIES._entries.pop("cfg_naive", None)
