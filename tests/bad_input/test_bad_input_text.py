"""Tasks posed as text, and flags that cannot apply: one sentence naming the field and the fix, exit 2, nothing written.

Each of these used to be accepted: answers the model cannot tell apart pinned a task at
chance, a format spec in a placeholder padded every prompt to megabytes, a prompt longer
than the model's positions failed mid-run, and a flag that did not apply was recorded as
if it had.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from benchmark.cli import main
from benchmark.core.errors import UserError
from benchmark.model.backbones import Backbone
from benchmark.model.text_encoding import check_answer_tokens
from benchmark.model.tiny_backbone import build_word_tokenizer
from tests.conftest import smoke_args, write_toy_scenario
from tests.bad_input.test_bad_input import nothing_written, refused_in_one_sentence, scenario_with

TASK1 = "    max_length: 24"  # the first task's last line: what follows it belongs to task1


def task1(d: Path, s: Path, lines: str) -> list[str]:
    """The toy scenario with ``lines`` added to its first task, posed as text."""
    return [*scenario_with(d, s, TASK1, TASK1 + "\n" + lines), "--formulation", "text"]


def scenario_prompt(d: Path, s: Path, prompt: str) -> list[str]:
    return [*scenario_with(d, s, "version: 1\n", f"version: 1\nprompt: {prompt}\n"), "--formulation", "text"]


Case = tuple[Callable[[Path, Path], list[str]], str]
CASES: dict[str, Case] = {
    # placeholders with a format spec or conversion (one ran 171 s instead of 5 s, others raised tracebacks)
    "format spec that pads": (lambda d, s: task1(d, s, '    prompt: "{text:>10000000} Answer:"'), "writes {text:>10000000}; a placeholder takes no format spec or conversion, so write {text}"),
    "integer format spec": (lambda d, s: task1(d, s, '    prompt: "{text:d} Answer:"'), "writes {text:d}; a placeholder takes no format spec"),
    "nested placeholder": (lambda d, s: task1(d, s, '    prompt: "{text:{options}} Answer:"'), "writes {text:{options}}; a placeholder takes no format spec"),
    "conversion": (lambda d, s: task1(d, s, '    prompt: "{text!r} Answer:"'), "writes {text!r}; a placeholder takes no format spec or conversion"),
    "format spec in the scenario's prompt": (lambda d, s: scenario_prompt(d, s, '"{text:^40} Answer:"'), "writes {text:^40}"),
    # empty prompts (silently the default template)
    "empty task prompt": (lambda d, s: task1(d, s, '    prompt: ""'), "task 'task1': prompt is empty; leave it out for the scenario's template"),
    "empty scenario prompt": (lambda d, s: scenario_prompt(d, s, '"  "'), "the scenario's prompt is empty; leave it out for the default template"),
    # answers the model cannot tell apart
    "null answer": (lambda d, s: task1(d, s, "    answers: {pos: null}"), "task 'task1': answers.pos is null; give it an answer string or leave it out"),
    "answers equal after normalising": (lambda d, s: task1(d, s, '    answers: {neg: pos, pos: "Pos."}'), "labels 'neg' and 'pos' have answers that differ only in case, spaces or punctuation ('pos', 'Pos.')"),
    "answers that differ in case": (lambda d, s: task1(d, s, "    answers: {neg: Good, pos: good}"), "differ only in case, spaces or punctuation"),
    "answers that differ in a trailing space": (lambda d, s: task1(d, s, '    answers: {neg: "yes ", pos: "yes"}'), "differ only in case, spaces or punctuation"),
    "answer of punctuation only": (lambda d, s: task1(d, s, '    answers: {neg: "..."}'), "the answer of label 'neg' is empty or only punctuation"),
    "answer that is a special token": (lambda d, s: task1(d, s, '    answers: {neg: "[PAD]"}'), "answer '[PAD]' is or holds the special token(s) ['[PAD]'] of model 'tiny'"),
    "answer holding the end-of-sequence token": (lambda d, s: task1(d, s, '    answers: {pos: "good [EOS]"}'), "answer 'good [EOS]' is or holds the special token(s) ['[EOS]']"),
    # lengths against the model's 512 positions
    "prompt longer than the model's positions": (lambda d, s: task1(d, s, '    prompt: "{text} ' + "the " * 600 + 'Answer:"'), "its longest prompt with its answer is 6"),
    "in-context demonstrations beyond the positions": (lambda d, s: ["--formulation", "text", "--strategies", "icl", "--set", "strategy_args.icl.shots=500"],
                                                        "strategy 'icl': task 'task1''s test prompts with 500 demonstrations reach"),
    # flags that cannot apply (the record claimed them; the numbers were the defaults')
    "model kind of a registered model": (lambda d, s: ["--model-kind", "seq2seq"], "--model-kind seq2seq does not apply to model 'tiny', which is a registered causal model"),
    "encoder kind of a registered model": (lambda d, s: ["--model-kind", "encoder"], "--model-kind encoder does not apply to model 'tiny'"),
    "greedy decoding with heads": (lambda d, s: ["--decode", "greedy"], "--decode greedy chooses how text answers are scored, so it needs --formulation text"),
    "prompts cut on the left with heads": (lambda d, s: [*task1(d, s, "    truncation_side: left"), "--formulation", "heads"],
                                           "sets truncation_side: left, which cuts prompts; heads read the bare text"),
    "class-incremental answers of two tasks that differ in case": (lambda d, s: [*task1(d, s, "    answers: {neg: Up, pos: good}"), "--setting", "class_incremental"],
                                                                   "--setting class_incremental makes 'Up' and 'up' (answers of different tasks) two classes"),
    "lm_eval settings without the lm_eval measure": (lambda d, s: ["--set", "lm_eval.limit=5"], "the 'lm_eval' settings apply to the lm_eval measure, which is not in --measures"),
    # result folders that would collide
    "models sharing a results folder": (lambda d, s: ["--model", "models/a/m,models/a-m"], "--model names 'models/a/m' and 'models/a-m', whose records would share the folder 'models-a-m'"),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_bad_text_input_is_one_sentence_exit_2_and_nothing_written(case: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    refused_in_one_sentence(CASES[case], tmp_path, capsys)


def test_answers_a_tokenizer_maps_to_the_same_tokens_are_refused() -> None:
    tokenizer = build_word_tokenizer(["alpha beta"])
    backbone = Backbone(model=None, tokenizer=tokenizer, kind="causal", name="lowercasing", fingerprint="")  # type: ignore[arg-type]
    eos = tokenizer.eos_token_id
    same = tokenizer("Alpha", add_special_tokens=False)["input_ids"]
    assert same == tokenizer("ALPHA", add_special_tokens=False)["input_ids"]  # the tokenizer lower-cases
    with pytest.raises(UserError, match="answers 'Alpha' and 'ALPHA' are the same tokens for model 'lowercasing'"):
        check_answer_tokens("t", ["Alpha", "ALPHA"], [[*same, eos], [*same, eos]], backbone)
    check_answer_tokens("t", ["alpha", "beta"], [[*same, eos], [*tokenizer("beta", add_special_tokens=False)["input_ids"], eos]], backbone)


def test_four_demonstrations_fit_and_run(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    scenario = write_toy_scenario(tmp_path / "toy", n_tasks=2)
    args = smoke_args(scenario, tmp_path / "out") + ["--formulation", "text", "--strategies", "icl", "--set", "strategy_args.icl.shots=4"]
    assert main(args) == 0, capsys.readouterr().err


def test_two_strategies_that_would_write_one_record_are_refused(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from benchmark.engine.strategy import STRATEGIES
    from strategies.naive import Naive

    for name in ("plug/in", "plug-in"):  # a plug-in's names: '/' cannot be part of a file name, so both become plug-in
        STRATEGIES.add(name, type(name.replace("/", "_").replace("-", "_"), (Naive,), {}))
    try:
        out = tmp_path / "out"
        assert main(smoke_args(write_toy_scenario(tmp_path / "toy"), out, "--strategies", "plug/in,plug-in")) == 2
        err = capsys.readouterr().err
        assert "strategies 'plug/in' and 'plug-in' would write the same record toy__o1__plug-in__s0.json" in err and err.count("\n") == 1
        assert nothing_written(out)
    finally:
        for name in ("plug/in", "plug-in"):
            STRATEGIES._entries.pop(name, None)
