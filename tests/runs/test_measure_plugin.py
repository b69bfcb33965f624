"""A third-party measure registers through the ``forgetbench.measures`` entry point: the example of docs/extending.md, end to end.

The plug-in measures the mean norm of the pooled features per task and declares a
metric on it; ``--measures`` selects it, the record stores its series, and the
leaderboard shows its metric as a column.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from benchmark.cli import main
from tests.conftest import write_toy_scenario

pytestmark = pytest.mark.slow  # starts processes or loads a real model: not in `make test-fast`

ROOT = Path(__file__).resolve().parents[2]
EXTENDING = (ROOT / "docs" / "extending.md").read_text(encoding="utf-8")
PLUGIN_MODULE = "fb_feature_norm"


def readme_plugin() -> str:
    """The plug-in module exactly as the "Adding a measure" section of docs/extending.md shows it."""
    section = EXTENDING.split("## Adding a measure", 1)[1]
    return section.split("```python\n", 1)[1].split("```", 1)[0]


def install(site: Path) -> None:
    (site / f"{PLUGIN_MODULE}.py").write_text(readme_plugin(), encoding="utf-8")
    info = site / "fb_feature_norm-0.1.dist-info"
    info.mkdir()
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: fb-feature-norm\nVersion: 0.1\n", encoding="utf-8")
    (info / "entry_points.txt").write_text(
        f"[forgetbench.measures]\nfeature_norm = {PLUGIN_MODULE}:FeatureNorm\n\n"
        f"[forgetbench.metrics]\nfeature_norm_drift = {PLUGIN_MODULE}:feature_norm_drift\n", encoding="utf-8",
    )


def forgetbench(args: list[str], env: dict[str, str], cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, str(ROOT / "run_benchmark.py"), *args], capture_output=True, text=True, env=env, cwd=cwd, timeout=600)


def test_the_readme_measure_is_listed_selected_recorded_and_shown(tmp_path: Path) -> None:
    site = tmp_path / "site"
    site.mkdir()
    install(site)
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(site), str(ROOT)]), "FORGETBENCH_CACHE": str(tmp_path / "cache")}
    scenario = write_toy_scenario(tmp_path / "toy", n_tasks=2, n_per_class=20, train_size=16, test_size=12)
    out = tmp_path / "out"
    args = ["--scenario", str(scenario), "--model", "tiny", "--strategies", "naive", "--out", str(out), "--no-progress",
            "--threads", "1", "--set", "train.batch_size=8", "--set", "eval.ppl_tokens=128", "--set", "eval.ppl_context=32",
            "--eval-on", "seen", "--measures", "accuracy,perplexity,feature_norm"]
    done = forgetbench(args, env, tmp_path)
    assert done.returncode == 0, done.stderr
    record = json.loads((out / "toy__o1__naive__s0.json").read_text())
    norms = record["measures"]["feature_norm"]
    assert len(norms) == 3 and all(len(row) == 2 for row in norms)
    assert all(v is not None and v > 0 for v in norms[0] + norms[2])  # row 0 and the last row: every task
    assert norms[1] == [norms[1][0], None]  # after task 1 only the seen task (eval_on: seen)
    drift = sum(abs(norms[2][j] / norms[0][j] - 1) for j in range(2)) / 2
    assert abs(record["metrics"]["feature_norm_drift"] - drift) < 1e-12
    assert "feature norm drift" in done.stdout  # the run's summary table has the plug-in's column

    # --list, the leaderboard and validate in one more interpreter (each start costs seconds)
    script = (
        "import sys; from benchmark.cli import main; "
        f"sys.exit(main(['--list']) or main(['leaderboard', '--results', {str(out)!r}]) "
        f"or main(['leaderboard', 'validate', '--results', {str(out)!r}]))"
    )
    after = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, env=env, cwd=tmp_path, timeout=600)
    assert after.returncode == 0, after.stdout + after.stderr
    listing, board = after.stdout.split("Presets:", 1)
    assert "feature_norm" in listing and "feature_norm_drift" in listing  # the measure and its metric are listed
    assert "feature norm drift" in board  # the leaderboard shows the plug-in's column (validate passed: exit 0)


def test_an_unknown_measure_is_named_with_a_suggestion(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--model", "tiny", "--measures", "accuracy,perplexty"]) == 2
    assert "unknown measure 'perplexty' in --measures; did you mean 'perplexity'?" in capsys.readouterr().err


def test_leaving_out_accuracy_is_refused(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--model", "tiny", "--measures", "perplexity"]) == 2
    assert "leaves out 'accuracy'" in capsys.readouterr().err
