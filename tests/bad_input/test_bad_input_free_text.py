"""Free-text tasks and TRACE's layout: every mistake is one sentence, exit 2, nothing written."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pandas as pd
import pytest

from tests.bad_input.test_bad_input import refused_in_one_sentence
from tests.conftest import smoke_args, write_data_folder, write_free_text_scenario, write_toy_scenario

Case = tuple[Callable[[Path, Path], list[str]], str]


def edited(tmp: Path, old: str, new: str, *, metrics: tuple[str, ...] = ("rouge_l", "exact_match")) -> list[str]:
    """A free-text toy scenario with ``old`` replaced by ``new`` in its YAML: the arguments that run it."""
    path = write_free_text_scenario(tmp / "free", metrics=metrics)
    text = path.read_text(encoding="utf-8")
    assert old in text, old
    path.write_text(text.replace(old, new, 1), encoding="utf-8")
    return ["--scenario", str(path), "--set", "eval.ppl_tokens=0"]


def empty_reference(tmp: Path) -> list[str]:
    args = edited(tmp, "metric: rouge_l", "metric: rouge_l")
    frame = pd.read_csv(tmp / "free" / "gen1.csv")
    frame.loc[3, "answer"] = "   "
    frame.to_csv(tmp / "free" / "gen1.csv", index=False)
    return args


def trace_scenario(tmp: Path, files: dict[str, str | None]) -> list[str]:
    """A TRACE-layout scenario of two tasks whose files are ``files`` (relative path -> content, None: absent)."""
    root = write_data_folder(tmp / "data", files)
    tasks = "".join(
        f"\n  - name: {name}\n    source: {{loader: trace, args: {{task: {name}}}}}\n    text_field: prompt\n    answer_field: answer\n    metric: rouge_l"
        for name in ("TaskA", "TaskB")
    )
    path = tmp / "trace.yaml"
    path.write_text(f"name: tracetoy\nversion: 1\nformulation: generate\nprompt: '{{text}}'\ntasks:{tasks}\norders:\n  - [TaskA, TaskB]\n", encoding="utf-8")
    return ["--scenario", str(path), "--data-dir", str(root), "--set", "eval.ppl_tokens=0"]


GOOD = json.dumps([{"prompt": f"say {k}", "answer": f"word{k}"} for k in range(20)])

CASES: dict[str, Case] = {
    "labels and answer_field": (lambda d, s: edited(d, "answer_field: answer", "answer_field: answer\n    labels: [a, b]"), "gives both 'labels' and 'answer_field'"),
    "unknown metric": (lambda d, s: edited(d, "metric: rouge_l", "metric: rouge-l"), "unknown answer metric 'rouge-l'"),
    "sari without source": (lambda d, s: edited(d, "metric: rouge_l", "metric: sari"), "compares the output with its source text, but the task names no source_field"),
    "empty reference": (lambda d, s: empty_reference(d), "have an empty or non-text reference in 'answer'"),
    "pattern that does not compile": (lambda d, s: edited(d, "metric: rouge_l", "metric: rouge_l\n    answer_pattern: 'Answer: ([A-D'"), "is not a regular expression"),
    "pattern without a group": (lambda d, s: edited(d, "metric: rouge_l", "metric: rouge_l\n    answer_pattern: 'Answer: [A-D]'"), "has no group"),
    "correct_at beyond 1": (lambda d, s: edited(d, "metric: rouge_l", "metric: rouge_l\n    correct_at: 50"), "'correct_at' is the score (0-1]"),
    "truncation_side not a side": (lambda d, s: edited(d, "metric: rouge_l", "metric: rouge_l\n    truncation_side: middle"), "truncation_side"),
    "max_new_tokens zero": (lambda d, s: edited(d, "max_new_tokens: 6", "max_new_tokens: 0"), "'max_new_tokens' must be at least 1"),
    "max_new_tokens beyond the context": (lambda d, s: edited(d, "max_new_tokens: 6", "max_new_tokens: 100000"), "new tokens is"),
    "rank decoding of free text": (lambda d, s: [*edited(d, "metric: rouge_l", "metric: rouge_l"), "--decode", "rank"], "--formulation generate decodes greedy, sample or beam"),
    "free text with heads": (lambda d, s: [*edited(d, "metric: rouge_l", "metric: rouge_l"), "--formulation", "heads"], "is answered in free text (answer_field), which --formulation heads cannot pose"),
    "trace file malformed": (
        lambda d, s: trace_scenario(d, {"TRACE/TaskA/train.json": GOOD, "TRACE/TaskA/test.json": '[{"prompt": "x", "answer": "y"},\n {"prompt": ]',
                                        "TRACE/TaskB/train.json": GOOD, "TRACE/TaskB/test.json": GOOD}),
        "TaskA/test.json is not valid JSON (line 2",
    ),
    "trace record malformed": (
        lambda d, s: trace_scenario(d, {"TRACE/TaskA/train.json": GOOD, "TRACE/TaskA/test.json": '[{"prompt": "x"}]',
                                        "TRACE/TaskB/train.json": GOOD, "TRACE/TaskB/test.json": GOOD}),
        "record 0 is not a",
    ),
}


@pytest.mark.parametrize("case", list(CASES), ids=list(CASES))
def test_free_text_mistakes_are_one_sentence_with_nothing_written(case: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    refused_in_one_sentence(CASES[case], tmp_path, capsys)


def test_every_missing_trace_file_is_named_at_once(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from run_benchmark import main

    args = smoke_args(write_toy_scenario(tmp_path / "toy"), tmp_path / "out") + trace_scenario(tmp_path, {"TRACE/TaskA/train.json": GOOD})
    assert main(args) == 2
    message = capsys.readouterr().err
    assert message.count("\n") == 1 and not (tmp_path / "out").exists(), message
    for missing in ("TaskA/test.json", "TaskB/train.json", "TaskB/test.json"):
        assert missing in message, message
