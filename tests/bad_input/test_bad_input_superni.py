"""Super-NaturalInstructions task files: read with every output a reference; mistakes in them are one sentence, exit 2."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from scenarios.loaders.superni import superni, superni_prompt
from tests.bad_input.test_bad_input import refused_in_one_sentence
from tests.conftest import smoke_args, write_data_folder, write_toy_scenario


def task_file(k: int) -> dict[str, object]:
    """A SuperNI task object: say the colour's name in French; some instances have two right answers."""
    words = [("red", ["rouge"]), ("blue", ["bleu"]), ("green", ["vert", "verte"]), ("white", ["blanc", "blanche"]), ("black", ["noir", "noire"])]
    return {
        "Definition": ["Translate the colour into French.", "Answer with one word."],
        "Positive Examples": [{"input": "yellow", "output": "jaune", "explanation": "jaune is yellow"}, {"input": "grey", "output": "gris"}],
        "Instances": [{"id": f"task{k}-{i}", "input": f"{w} {i}", "output": out} for i in range(12) for w, out in words],
    }


def superni_args(tmp: Path, files: dict[str, str | None]) -> list[str]:
    """A two-task SuperNI scenario over ``files`` (relative path -> content, None: absent)."""
    root = write_data_folder(tmp / "data", files)
    tasks = "".join(
        f"\n  - name: {name}\n    source: {{loader: superni, args: {{task: {name}, positive_examples: 1}}}}\n    answer_field: references\n"
        f"    metric: exact_match\n    train_size: 30\n    test_size: 10\n    max_length: 48"
        for name in ("task001_colours", "task002_colours")
    )
    path = tmp / "superni.yaml"
    path.write_text(f"name: nitoy\nversion: 1\nformulation: generate\nprompt: '{{text}}'\ntasks:{tasks}\norders:\n  - [task001_colours, task002_colours]\n", encoding="utf-8")
    return ["--scenario", str(path), "--data-dir", str(root), "--set", "eval.ppl_tokens=0"]


GOOD = json.dumps(task_file(1))
TASKS = "natural-instructions/tasks"


def test_prompts_hold_the_definition_the_demonstrations_and_the_instance(tmp_path: Path) -> None:
    (tmp_path / TASKS).mkdir(parents=True)
    (tmp_path / TASKS / "task001_colours.json").write_text(GOOD, encoding="utf-8")
    frame = superni(data_dir=tmp_path, task="task001_colours", positive_examples=1)
    assert len(frame) == 60 and frame["id"].iloc[0] == "task1-0"
    assert frame["text"].iloc[2] == (
        "Definition: Translate the colour into French. Answer with one word.\n\n"
        "Positive Example 1 -\nInput: yellow\nOutput: jaune\n\n"
        "Now complete the following example -\nInput: green 0\nOutput:"
    )
    assert frame["references"].iloc[2] == ["vert", "verte"]  # every output of the instance counts
    assert superni_prompt([], [], "x") == "Now complete the following example -\nInput: x\nOutput:"


def test_a_run_scores_against_every_reference(tmp_path: Path) -> None:
    from benchmark.results.records import read_record, record_files
    from run_benchmark import main

    out = tmp_path / "out"
    args = smoke_args(write_toy_scenario(tmp_path / "toy"), out) + superni_args(tmp_path, {f"{TASKS}/task001_colours.json": GOOD, f"{TASKS}/task002_colours.json": json.dumps(task_file(2))})
    assert main([*args, "--strategies", "frozen"]) == 0
    record = read_record(record_files(out)[0])
    from benchmark.results.generations import decode_references

    references = decode_references(record.extra["references"]["task001_colours"]).references
    assert any(len(r) == 2 for r in references) and record.status == "finished"


CASES = {
    "task file not JSON": (lambda d, s: superni_args(d, {f"{TASKS}/task001_colours.json": '{"Definition": ["x"],\n "Instances": [}', f"{TASKS}/task002_colours.json": GOOD}),
                           "task001_colours.json is not valid JSON (line 2"),
    "instance without outputs": (
        lambda d, s: superni_args(d, {f"{TASKS}/task001_colours.json": json.dumps({**task_file(1), "Instances": [{"input": "red", "output": []}]}),
                                      f"{TASKS}/task002_colours.json": GOOD}),
        "instance 0 is not an",
    ),
    "definition that is text": (
        lambda d, s: superni_args(d, {f"{TASKS}/task001_colours.json": json.dumps({**task_file(1), "Definition": "Translate."}), f"{TASKS}/task002_colours.json": GOOD}),
        "'Definition' must be a list of texts",
    ),
}


@pytest.mark.parametrize("case", list(CASES), ids=list(CASES))
def test_superni_mistakes_are_one_sentence_with_nothing_written(case: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    refused_in_one_sentence(CASES[case], tmp_path, capsys)


def test_every_missing_task_file_is_named_at_once(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from run_benchmark import main

    args = smoke_args(write_toy_scenario(tmp_path / "toy"), tmp_path / "out") + superni_args(tmp_path, {})
    assert main(args) == 2
    message = capsys.readouterr().err
    assert message.count("\n") == 1 and not (tmp_path / "out").exists(), message
    assert "task001_colours.json" in message and "task002_colours.json" in message, message
