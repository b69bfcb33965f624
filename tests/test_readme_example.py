"""The README's strategy example is real code: it registers and runs a full suite."""

from __future__ import annotations

import importlib.util
import re
import sys
from pathlib import Path

from benchmark.cli import main
from benchmark.results.records import read_record, record_files
from strategies.base import STRATEGIES

README = Path(__file__).resolve().parents[1] / "README.md"


def test_readme_strategy_example_runs(toy_scenario: Path, tmp_path: Path) -> None:
    section = README.read_text(encoding="utf-8").split("## Adding a strategy", 1)[1]
    code = re.search(r"```python\n(.*?)```", section, re.S).group(1)
    assert len(code.strip().splitlines()) <= 25
    module_path = tmp_path / "my_strategies.py"
    module_path.write_text(code, encoding="utf-8")
    spec = importlib.util.spec_from_file_location("my_strategies", module_path)
    module = importlib.util.module_from_spec(spec)
    try:
        spec.loader.exec_module(module)
        assert "anchor_last" in STRATEGIES
        args = ["--scenario", str(toy_scenario), "--model", "tiny", "--out", str(tmp_path / "out"), "--no-progress",
                "--strategies", "anchor_last", "--set", "strategy_args.anchor_last.weight=0.1", "--set", "eval.ppl_tokens=256"]
        assert main(args) == 0
        record = read_record(record_files(tmp_path / "out")[0])
        assert record.strategy == "anchor_last" and record.status == "finished"
        assert record.config["strategy_args"] == {"anchor_last": {"weight": 0.1}}
    finally:
        STRATEGIES._entries.pop("anchor_last", None)
        sys.modules.pop("my_strategies", None)
