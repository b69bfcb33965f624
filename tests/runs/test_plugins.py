"""Third-party strategies register through the entry-point group ``forgetbench.strategies``."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow  # starts processes: not in `make test-fast`

ROOT = Path(__file__).resolve().parents[2]

PLUGIN = '''
from __future__ import annotations

import torch

from strategies.base import Strategy


class HeadDecay(Strategy):
    """Plugin test strategy: weight decay on the current head only."""

    def __init__(self, *, weight: float = 0.1) -> None:
        self.weight = weight

    def penalty(self, model, batch, outputs):
        return self.weight * model.heads[batch["head"]].weight.pow(2).sum()
'''


def install_fake_distribution(site: Path) -> None:
    """A module plus a dist-info folder declaring the entry point, as pip would leave them."""
    (site / "fb_plugin_demo.py").write_text(PLUGIN, encoding="utf-8")
    info = site / "fb_plugin_demo-0.1.dist-info"
    info.mkdir()
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: fb-plugin-demo\nVersion: 0.1\n", encoding="utf-8")
    (info / "entry_points.txt").write_text("[forgetbench.strategies]\nhead_decay = fb_plugin_demo:HeadDecay\n", encoding="utf-8")


def test_entry_point_strategy_is_listed_and_runs(tmp_path: Path, toy_scenario: Path) -> None:
    site = tmp_path / "site"
    site.mkdir()
    install_fake_distribution(site)
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(site), str(ROOT)])}
    listed = subprocess.run([sys.executable, str(ROOT / "run_benchmark.py"), "--list"], capture_output=True, text=True, env=env, cwd=tmp_path)
    assert listed.returncode == 0, listed.stderr
    assert "head_decay" in listed.stdout and "Plugin test strategy" in listed.stdout
    args = ["--scenario", str(toy_scenario), "--model", "tiny", "--strategies", "head_decay", "--out", str(tmp_path / "out"),
            "--no-progress", "--set", "strategy_args.head_decay.weight=0.5", "--set", "eval.ppl_tokens=128"]
    done = subprocess.run([sys.executable, str(ROOT / "run_benchmark.py"), *args], capture_output=True, text=True, env=env, cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert (tmp_path / "out" / "toy__o1__head_decay__s0.json").is_file()
    assert "| head_decay " in done.stdout
