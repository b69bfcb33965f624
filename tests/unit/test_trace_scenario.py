"""The ``trace`` scenario: TRACE's eight tasks in its order with its metrics, and every missing file named at once."""

from __future__ import annotations

from pathlib import Path

import pytest

from scenarios.catalog import load_scenario

SHARED_FOMC = Path(__file__).resolve().parents[3] / "shared" / "data" / "trace" / "FOMC"


def test_the_tasks_order_and_metrics_are_traces() -> None:
    spec = load_scenario("trace")
    assert spec.orders == [["C-STANCE", "FOMC", "MeetingBank", "Py150", "ScienceQA", "NumGLUE-cm", "NumGLUE-ds", "20Minuten"]]
    metrics = {t.name: t.metric for t in spec.tasks}
    assert metrics == {
        "C-STANCE": "accuracy", "FOMC": "accuracy", "MeetingBank": "rouge_l", "Py150": "edit_similarity", "ScienceQA": "accuracy",
        "NumGLUE-cm": "accuracy", "NumGLUE-ds": "accuracy", "20Minuten": "sari",
    }
    assert spec.task("ScienceQA").answer_pattern == "Answer: (.)" and spec.task("20Minuten").source_field == "prompt"
    assert spec.formulation == "generate" and all(t.source.loader == "trace" and t.free_text for t in spec.tasks)


@pytest.mark.skipif(not SHARED_FOMC.is_dir(), reason="../shared/data/trace is not beside the checkout")
def test_with_only_fomc_there_one_message_names_the_fourteen_missing_task_files_and_the_corpus(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from run_benchmark import main

    (tmp_path / "data" / "TRACE").mkdir(parents=True)
    (tmp_path / "data" / "TRACE" / "FOMC").symlink_to(SHARED_FOMC)
    out = tmp_path / "out"
    assert main(["--scenario", "trace", "--data-dir", str(tmp_path / "data"), "--preset", "smoke", "--out", str(out), "--no-progress"]) == 2
    message = capsys.readouterr().err
    assert message.count("\n") == 1 and not out.exists(), message
    assert "needs 15 file(s) that are missing" in message and "TRACE/FOMC/" not in message and "wikitext-2/test.txt" in message
    for task in ("C-STANCE", "MeetingBank", "Py150", "ScienceQA", "NumGLUE-cm", "NumGLUE-ds", "20Minuten"):
        assert f"TRACE/{task}/train.json" in message and f"TRACE/{task}/test.json" in message
