"""Sources with splits of their own: no run may train on its test data, and every file problem is one sentence.

An empty train or test file (or one emptied by drop_labels) used to make the harness split
the other file into both, so the run trained on examples it was tested on.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest

from benchmark.cli import main
from scenarios.loaders.cl_benchmark import cl_benchmark
from scenarios.prepare import prepare_task
from scenarios.catalog import load_scenario
from tests.bad_input.test_bad_input import refused_in_one_sentence, scenario_with, write


def cl_task(root: Path, task: str, train: object, test: object, labels: object = ("good", "bad")) -> None:
    """One task folder of O-LoRA's CL_Benchmark layout under ``root/cl_benchmark``."""
    folder = root / "cl_benchmark" / task
    folder.mkdir(parents=True, exist_ok=True)
    for name, data in (("train", train), ("test", test), ("labels", list(labels) if isinstance(labels, tuple) else labels)):
        (folder / f"{name}.json").write_text(data if isinstance(data, str) else json.dumps(data))


def examples(n: int, labels: tuple[str, ...] = ("good", "bad"), word: str = "text") -> list[dict[str, str]]:
    return [{"sentence": f"{word} number {i} is {labels[i % len(labels)]}", "label": labels[i % len(labels)]} for i in range(n)]


def cl_scenario(root: Path, tasks: list[str], extra: str = "") -> str:
    body = "".join(
        f"  - name: {t.lower()}\n    source: {{loader: cl_benchmark, args: {{task: {t}}}}}\n    text_field: sentence\n"
        f"    labels: [good, bad]\n    train_size: 8\n    test_size: 4\n{extra}" for t in tasks
    )
    text = f"name: cltoy\nversion: 1\nprompt: \"{{text}} Answer:\"\ntasks:\n{body}orders:\n  - [{', '.join(t.lower() for t in tasks)}]\n"
    return write(root / "cltoy.yaml", text)


def run_cl(root: Path, tasks: list[str], extra: str = "") -> list[str]:
    return ["--scenario", cl_scenario(root, tasks, extra), "--formulation", "text", "--model", "tiny", "--data-dir", str(root),
            "--no-progress", "--set", "eval.ppl_tokens=0"]


def files_task(d: Path, s: Path, train: str, test: str) -> list[str]:
    """The toy scenario with task1 reading one csv per split."""
    files = f"files: {{train: {write(d / 'train.csv', train)}, test: {write(d / 'test.csv', test)}}}"
    return scenario_with(d, s, f"path: {d / 'toy' / 'task1.csv'}", files)


def toy_csv(n: int) -> str:
    return "text,label\n" + "".join(f"word{i} filler {i},{'neg' if i % 2 else 'pos'}\n" for i in range(n))


Case = tuple[Callable[[Path, Path], list[str]], str]
CASES: dict[str, Case] = {
    "empty cl_benchmark train.json": (lambda d, s: (cl_task(d, "T", [], examples(8)), run_cl(d, ["T"]))[1], "cl_benchmark/T/train.json holds no labelled example; a task needs both splits"),
    "empty cl_benchmark test.json": (lambda d, s: (cl_task(d, "T", examples(20), "[]"), run_cl(d, ["T"]))[1], "cl_benchmark/T/test.json holds no labelled example"),
    "test.json of unlabelled examples only": (lambda d, s: (cl_task(d, "T", examples(20), examples(6, ("-",))), run_cl(d, ["T"]))[1], "test.json holds no labelled example"),
    "labels.json that is not JSON": (lambda d, s: (cl_task(d, "T", examples(20), examples(8), "good, bad"), run_cl(d, ["T"]))[1], "labels.json is not a readable JSON file (JSONDecodeError); restore it"),
    "labels.json that holds a number": (lambda d, s: (cl_task(d, "T", examples(20), examples(8), "5"), run_cl(d, ["T"]))[1], "labels.json must be a JSON list of the task's answer strings"),
    "train.json that is a directory": (lambda d, s: (cl_task(d, "T", examples(20), examples(8)), (d / "cl_benchmark" / "T" / "train.json").unlink(),
                                        (d / "cl_benchmark" / "T" / "train.json").mkdir(), run_cl(d, ["T"]))[3], "cl_benchmark/T/train.json is a directory, not a file"),
    "drop_labels that empties the test split": (lambda d, s: (cl_task(d, "T", examples(20), examples(8, ("bad",))), run_cl(d, ["T"], "    drop_labels: [bad]\n"))[1],
                                                "no test example is left after dropping labels and duplicates, and the source's own splits are kept apart"),
    "every test example also in train": (lambda d, s: (cl_task(d, "T", examples(8), examples(8)), run_cl(d, ["T"]))[1], "no train example is left"),
    "header-only train file": (lambda d, s: files_task(d, s, "text,label\n", toy_csv(40)), "train.csv' holds no examples; fill it, or give one file as 'path'"),
    "header-only test file": (lambda d, s: files_task(d, s, toy_csv(40), "text,label\n"), "test.csv' holds no examples"),
    "files of two tasks missing": (lambda d, s: run_cl(d, ["A", "B"]), "scenario 'cltoy' needs 6 file(s) that are missing: "),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_bad_source_is_one_sentence_exit_2_and_nothing_written(case: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    refused_in_one_sentence(CASES[case], tmp_path, capsys)


def test_every_missing_file_of_every_task_is_named_at_once(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    cl_task(tmp_path, "A", examples(20), examples(8, word="other"))
    assert main(run_cl(tmp_path, ["A", "B", "C"]) + ["--out", str(tmp_path / "out")]) == 2
    err = capsys.readouterr().err
    for task in "BC":
        for name in ("train", "test", "labels"):
            assert f"{tmp_path}/cl_benchmark/{task}/{name}.json" in err, err
    assert "cl_benchmark/A/" not in err


def test_unlabelled_examples_are_dropped_and_drop_labels_runs_before_the_label_check(tmp_path: Path) -> None:
    test = examples(8, word="other") + examples(3, ("-",), word="unlabelled") + examples(2, ("maybe",), word="third")
    cl_task(tmp_path, "T", examples(20), test)
    frame = cl_benchmark(data_dir=tmp_path, task="T")
    assert "-" not in set(frame["label"]) and (frame["split"] == "test").sum() == 10  # the 3 unlabelled ones are gone
    spec = load_scenario(cl_scenario(tmp_path, ["T"], "    drop_labels: [maybe]\n")).task("t")
    task = prepare_task(spec, seed=0, data_dir=tmp_path, source_name="test")
    assert len(task.test.texts) == 4 and not any("third" in t or "unlabelled" in t for t in task.test.texts)
    assert not set(task.test.texts) & set(task.train.texts)


def test_o_loras_mnli_test_file_with_its_unlabelled_examples_prepares(tmp_path: Path) -> None:
    from tests.conftest import SHARED_DATA

    if not (SHARED_DATA / "cl_benchmark" / "MNLI").is_dir():
        pytest.skip("../shared/data/cl_benchmark is not beside the checkout")
    spec = load_scenario("olora_long").task("mnli")
    task = prepare_task(spec, seed=0, data_dir=SHARED_DATA, source_name="olora_long", train_size=30, test_size=30)
    assert len(task.test.texts) == 30 and not set(task.test.texts) & set(task.train.texts)
