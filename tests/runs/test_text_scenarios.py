"""Text-formulation inputs: prompt templates and answers, chat templates, and O-LoRA's CL_Benchmark files.

Each mistake is one sentence naming the task or file and the fix, exit 2, nothing written.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from benchmark.cli import main
from benchmark.core.errors import UserError
from benchmark.model.prompt_encoding import PromptEncoder
from benchmark.model.tiny_backbone import build_word_tokenizer
from scenarios.catalog import load_scenario
from scenarios.loaders.cl_benchmark import cl_benchmark
from scenarios.prompts import TaskPrompt, task_prompt
from tests.conftest import SHARED_DATA, smoke_args, write_toy_scenario
from tests.bad_input.test_bad_input import nothing_written, scenario_with

TASK1 = "  - name: task1\n"


@pytest.mark.parametrize(("edit", "message"), [
    ('    prompt: "{text} {label}"\n', "uses {label}; a template may use only {text}, {text_pair} and {options}"),
    ('    prompt: "no placeholder"\n', "has no {text}; put {text} where"),
    ('    prompt: "{text} {text_pair}"\n', "uses {text_pair} but the task has no text_pair_field"),
    ('    prompt: "{text"\n', "is not a valid template"),
    ("    answers: {neutral: maybe}\n", "'answers' names ['neutral'], which are not in labels"),
    ("    answers: {neg: same, pos: same}\n", "answer 'same' is given to two labels"),
    ('    answers: {neg: " "}\n', "the answer of label 'neg' is empty"),
])
def test_a_bad_prompt_or_answer_is_one_sentence_exit_2_and_nothing_written(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], edit: str, message: str,
) -> None:
    scenario = write_toy_scenario(tmp_path / "toy")
    out = tmp_path / "out"
    args = scenario_with(tmp_path, scenario, TASK1, TASK1 + edit)
    assert main(smoke_args(Path(args[1]), out, "--formulation", "text")) == 2
    err = capsys.readouterr().err
    assert message in err and "task 'task1'" in err and err.count("\n") == 1
    assert nothing_written(out)


def test_the_default_scenario_poses_every_task_with_its_own_prompt_and_answers() -> None:
    spec = load_scenario("default")
    prompts = {t.name: task_prompt(spec, t) for t in spec.tasks}
    assert spec.prompt_style == "chat"
    assert prompts["movie_sentiment"].answers == ["negative", "positive"]
    assert prompts["news_source"].answers == ["Good Health", "New York Times", "Reuters", "BBC"]
    assert all("{text}" in p.template and p.template != "{text}\nAnswer:" for p in prompts.values())


def test_chat_prompts_need_a_chat_template_and_end_in_the_generation_prompt() -> None:
    tokenizer = build_word_tokenizer(["the movie was good answer user assistant"])
    chat = TaskPrompt("{text} answer", None, ["good", "bad"], "chat")
    rendered = PromptEncoder(tokenizer, chat, 16).render("the movie", None, [("the", None, "good")])
    assert rendered == "user: the answer\nassistant: good [EOS]\nuser: the movie answer\nassistant:"
    tokenizer.chat_template = None
    with pytest.raises(UserError, match="has no chat template, so prompt_style: chat cannot apply; set prompt_style: plain"):
        PromptEncoder(tokenizer, chat, 16, "tiny")


def test_long_texts_are_cut_at_max_length_tokens_and_the_template_and_answer_survive() -> None:
    tokenizer = build_word_tokenizer(["one two three four five six answer good bad"])
    encoder = PromptEncoder(tokenizer, TaskPrompt("{text} answer", "lead", ["good", "bad"], "plain"), 3)
    (prompt,) = encoder.prompts(["one two three four five six"], None)
    assert tokenizer.convert_ids_to_tokens(prompt) == ["[UNK]", "one", "two", "three", "answer"]  # "lead" is out of vocabulary
    assert tokenizer.convert_ids_to_tokens(encoder.answer_ids("good")) == ["good", "[EOS]"]


@pytest.mark.skipif(not (SHARED_DATA / "cl_benchmark" / "agnews").is_dir(), reason="../shared/data/cl_benchmark is not beside the checkout")
def test_the_cl_benchmark_loader_reads_o_loras_layout() -> None:
    frame = cl_benchmark(data_dir=SHARED_DATA, task="agnews")
    answers = json.loads((SHARED_DATA / "cl_benchmark" / "agnews" / "labels.json").read_text())
    assert set(frame["label"]) == set(answers) and set(frame["split"]) == {"train", "test"}
    assert (frame["split"] == "train").sum() == 4000 and frame["sentence"].str.startswith("Title:").all()
    spec = load_scenario("olora_standard")
    assert spec.task("agnews").labels == answers


def test_missing_cl_benchmark_files_are_named(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "cl_benchmark" / "dbpedia").mkdir(parents=True)
    (tmp_path / "cl_benchmark" / "dbpedia" / "test.json").write_text("[]")
    out = tmp_path / "out"
    assert main(["--scenario", "olora_standard", "--formulation", "text", "--model", "tiny", "--data-dir", str(tmp_path), "--out", str(out)]) == 2
    err = capsys.readouterr().err
    # every missing file of every task in one message (the user used to learn of yahoo's only after fixing dbpedia's)
    assert f"{tmp_path}/cl_benchmark/dbpedia/train.json, {tmp_path}/cl_benchmark/dbpedia/labels.json, {tmp_path}/cl_benchmark/amazon/train.json" in err
    assert f"{tmp_path}/cl_benchmark/yahoo/labels.json" in err and f"{tmp_path}/wikitext-2/test.txt" in err  # the corpus too
    assert "scenario 'olora_standard' needs 12 file(s) that are missing" in err and err.count("\n") == 1
    assert nothing_written(out)
    assert main(["--scenario", "olora_standard", "--formulation", "text", "--model", "tiny", "--out", str(out)]) == 2
    assert "pass --data-dir, the folder that holds cl_benchmark/dbpedia/" in capsys.readouterr().err
