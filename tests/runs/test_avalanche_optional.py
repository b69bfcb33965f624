"""The core works without avalanche-lib: nothing imports it until an avalanche:* strategy is built."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

import strategies.avalanche.engine as avalanche_engine
from benchmark.core.errors import UserError
from strategies.base import build_strategy

pytestmark = pytest.mark.slow  # starts a Python process per check: not in `make test-fast`

ROOT = Path(__file__).resolve().parents[2]


def test_importing_forgetbench_and_listing_strategies_never_imports_avalanche() -> None:
    code = (
        "import sys, contextlib, io\n"
        "import benchmark.cli, benchmark.suite.runner, leaderboard.aggregate, strategies\n"
        "with contextlib.redirect_stdout(io.StringIO()):\n"
        "    benchmark.cli.main(['--list'])\n"
        "leaked = sorted(m for m in sys.modules if m == 'avalanche' or m.startswith('avalanche.'))\n"
        "assert not leaked, leaked\n"
    )
    result = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True)
    assert result.returncode == 0, result.stderr


def test_list_shows_the_avalanche_strategies_and_how_to_install_them(capsys: pytest.CaptureFixture[str]) -> None:
    from benchmark.cli import main

    assert main(["--list"]) == 0
    out = capsys.readouterr().out
    for name in ("Naive", "EWC", "LwF", "Replay", "SI", "MAS", "GEM", "AGEM"):
        assert f"avalanche:{name}" in out
    assert ('pip install -e ".[avalanche]"' in out) == (not avalanche_engine.avalanche_installed())


def test_building_one_without_avalanche_says_which_pip_command_installs_it(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(avalanche_engine, "avalanche_installed", lambda: False)
    with pytest.raises(UserError, match=r"'avalanche:EWC' needs avalanche-lib, which is not installed; install it with pip install"):
        build_strategy("avalanche:EWC")
