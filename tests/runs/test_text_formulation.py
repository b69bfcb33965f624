"""The text formulation's mechanisms: answer-only loss, shared-prompt scoring, competing answers, decoding, zero-shot rows."""

from __future__ import annotations

import copy
from pathlib import Path

import pytest
import torch

from benchmark.core.errors import UserError
from benchmark.engine.run_steps import RunOutcome
from benchmark.engine.text_evaluation import TextEval, competing_classes, text_task_accuracy
from benchmark.core.answer_text import normalise_answer as normalise
from benchmark.engine.text_scoring import full_pass_loglik, shared_prompt_loglik
from benchmark.model.backbones import Backbone, load_backbone
from benchmark.model.encoding import EncodedSplit, EncodedTask
from benchmark.model.prompt_encoding import TextTask
from benchmark.model.task_model import TaskModel
from benchmark.model.text_batches import answer_batch
from scenarios.prompts import TaskPrompt
from benchmark.results.outcomes import decode
from tests.conftest import FILLER, run_toy_suite, write_toy_scenario

WORDS = FILLER + ["answer", "yes", "no", "maybe", "very", "good", "bad", "red", "green", "blue"]


@pytest.fixture(scope="module")
def backbone() -> Backbone:
    return load_backbone("tiny", texts=[" ".join(WORDS)] * 3)


@pytest.fixture(scope="module")
def t5() -> Backbone:
    return load_backbone("tiny-t5", texts=[" ".join(WORDS)] * 3)


def text_model(backbone: Backbone) -> TaskModel:
    return TaskModel(copy.deepcopy(backbone.model), kind=backbone.kind, head_sizes={}, seed=0, formulation="text").eval()


def ids(backbone: Backbone, text: str) -> list[int]:
    return backbone.tokenizer(text, add_special_tokens=False)["input_ids"]


def test_the_loss_is_the_answer_tokens_negative_log_likelihood_and_prompt_tokens_carry_none(backbone: Backbone) -> None:
    model = text_model(backbone)
    prompts = [ids(backbone, "the a of and answer"), ids(backbone, "to in answer")]
    answers = [ids(backbone, "yes") + [3], ids(backbone, "very good") + [3]]
    batch = answer_batch(prompts, [0, 1], answers, backbone.pad_id)
    loss, _ = model.answer_loss(batch, "t")
    with torch.no_grad():
        logits = model.backbone(input_ids=batch["input_ids"], attention_mask=batch["attention_mask"]).logits
    logp = torch.log_softmax(logits.float(), dim=-1)
    by_hand = [-logp[row, len(p) - 1 + k, a[k]] for row, (p, a) in enumerate(zip(prompts, [answers[0], answers[1]])) for k in range(len(a))]
    assert float(loss.detach()) == pytest.approx(float(torch.stack(by_hand).mean()), abs=1e-6)
    # Exactly the answer positions are targets: every prompt and padding position is ignored.
    expected = torch.full_like(batch["target_ids"], -100)
    for row, (p, a) in enumerate(zip(prompts, answers)):
        expected[row, len(p): len(p) + len(a)] = torch.tensor(a)
    assert torch.equal(batch["target_ids"], expected)
    # Changing a prompt token's target changes nothing only because the loss never reads it: a logit there has no gradient.
    full = logits.detach().requires_grad_(True)
    targets = batch["target_ids"][:, 1:]
    ce = torch.nn.functional.cross_entropy(full[:, :-1].flatten(0, 1).float(), targets.flatten(), ignore_index=-100)
    ce.backward()
    per_position = full.grad[:, :-1].abs().sum(-1)
    assert torch.all(per_position[targets == -100] == 0) and torch.all(per_position[targets != -100] > 0)
    assert float(ce.detach()) == pytest.approx(float(loss.detach()), abs=1e-6)


def test_only_positions_that_predict_an_answer_token_reach_the_lm_head(backbone: Backbone) -> None:
    model = text_model(backbone)
    seen: list[int] = []
    model.output_layer().register_forward_hook(lambda module, inputs, output: seen.append(inputs[0].shape[0]))
    prompts = [ids(backbone, "the a of and answer"), ids(backbone, "to in answer")]
    answers = [ids(backbone, "yes") + [3], ids(backbone, "very good") + [3]]
    model.answer_loss(answer_batch(prompts, [0, 1], answers, backbone.pad_id), "t")
    assert seen == [len(answers[0]) + len(answers[1])]


def one_at_a_time(model: TaskModel, prompt: list[int], candidate: list[int]) -> float:
    """log p(candidate | prompt) from the plain transformers model, one unpadded example."""
    if model.kind == "seq2seq":
        logits = model.backbone(input_ids=torch.tensor([prompt]), decoder_input_ids=torch.tensor([[0, *candidate[:-1]]])).logits[0]
        return float(torch.log_softmax(logits.float(), -1)[torch.arange(len(candidate)), torch.tensor(candidate)].sum())
    logits = model.backbone(input_ids=torch.tensor([prompt + candidate])).logits[0]
    return float(torch.log_softmax(logits.float(), -1)[len(prompt) - 1 + torch.arange(len(candidate)), torch.tensor(candidate)].sum())


@pytest.mark.parametrize("start", ["", "system of the a to in is it and we"])  # a common start runs once for the batch
@pytest.mark.parametrize("kind", ["causal", "seq2seq"])
def test_shared_prompt_scoring_equals_one_full_pass_per_answer(backbone: Backbone, t5: Backbone, kind: str, start: str) -> None:
    from benchmark.engine.text_scoring import shared_prefix

    backbone = t5 if kind == "seq2seq" else backbone
    model = text_model(backbone)
    texts = ["the a of and to in is it answer", "answer", "we there can an your which answer"]
    prompts = [ids(backbone, f"{start} {t}".strip()) for t in texts]
    assert (shared_prefix(prompts) > 0) == bool(start)
    candidates = [ids(backbone, "yes") + [3], ids(backbone, "very good bad red") + [3], [3], ids(backbone, "no maybe") + [3]]
    with torch.inference_mode():
        shared = shared_prompt_loglik(model, prompts, candidates, backbone.pad_id, "t")
        full = full_pass_loglik(model, prompts, candidates, backbone.pad_id, "t")
        alone = torch.tensor([[one_at_a_time(model, p, c) for c in candidates] for p in prompts])
    assert shared.shape == (3, 4)
    assert torch.allclose(shared, full, atol=1e-5) and torch.allclose(shared, alone, atol=1e-5)


def toy_text_task(index: int, answer_texts: list[str], own: list[int], labels: list[int], backbone: Backbone) -> EncodedTask:
    answers = [ids(backbone, a) + [3] for a in answer_texts]
    prompts = [ids(backbone, "the a of answer")] * len(labels)
    split = EncodedSplit(prompts, labels, answers)
    prompt = TaskPrompt("{text} answer", None, [answer_texts[c] for c in own], "plain")
    text = TextTask(prompt, answer_texts, own, 16, [("the", None, c) for c in own], [("the a of", None)] * len(labels), "h")
    return EncodedTask(name=f"t{index}", index=index, head="shared", label_names=answer_texts, train=split, test=split, data_hash="h", text=text)


def test_class_incremental_scoring_lets_every_seen_tasks_answers_compete_and_task_incremental_only_its_own(backbone: Backbone) -> None:
    union = ["yes", "no", "red", "green", "blue", "good", "bad"]
    tasks = [toy_text_task(0, union, [0, 1], [0, 1], backbone), toy_text_task(1, union, [2, 3, 4], [2, 3], backbone),
             toy_text_task(2, union, [5, 6], [5, 6], backbone)]
    assert competing_classes(tasks, 2, 1, "task_incremental") == [2, 3, 4]
    assert competing_classes(tasks, 2, 0, "class_incremental") == [0, 1, 2, 3, 4]
    assert competing_classes(tasks, 3, 0, "class_incremental") == list(range(7))
    assert competing_classes(tasks, 0, 1, "class_incremental") == [0, 1, 2, 3, 4]  # row 0: up to the task itself
    assert competing_classes(tasks, 1, 2, "class_incremental") == list(range(7))  # the next task is scored with its answers


def plant(model: TaskModel, emit: list[int], eos: int) -> None:
    """Makes the backbone emit ``emit`` then ``eos`` after any prompt: a forward hook on the full model's logits."""
    chain = {a: b for a, b in zip(emit, emit[1:] + [eos])}

    def hook(module: torch.nn.Module, args: tuple, kwargs: dict, output: object) -> object:
        tokens = kwargs["input_ids"][:, -output.logits.size(1):]  # generate keeps only the last position's logits
        planted = torch.full_like(output.logits, -1e4)
        nxt = torch.full_like(tokens, emit[0])
        for a, b in chain.items():
            nxt[tokens == a] = b
        planted.scatter_(-1, nxt[..., None], 1e4)
        output.logits = planted
        return output

    model.backbone.register_forward_hook(hook, with_kwargs=True)


@pytest.mark.parametrize(("emitted", "accuracy", "invalid", "chosen"), [("very good", 1.0, 0.0, 0), ("red", 0.0, 1.0, -1)])
def test_greedy_decoding_scores_exact_match_and_counts_outputs_outside_the_answers(
    backbone: Backbone, emitted: str, accuracy: float, invalid: float, chosen: int,
) -> None:
    union = ["Very good!", "bad"]
    task = toy_text_task(0, union, [0, 1], [0, 0, 0], backbone)
    model = text_model(backbone)
    plant(model, ids(backbone, emitted), backbone.tokenizer.eos_token_id)
    got = text_task_accuracy(model, task, [0, 1], TextEval(decode="greedy", backbone=backbone, batch_size=2))
    outcomes = decode(got.pop("outcomes"))
    assert got == {"accuracy": accuracy, "invalid_outputs": invalid}
    assert outcomes.gold.tolist() == [0, 0, 0] and outcomes.chosen.tolist() == [chosen] * 3  # -1: matches no answer
    assert normalise("  Very   GOOD! ") == "very good"


@pytest.fixture(scope="module")
def scenario(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_toy_scenario(tmp_path_factory.mktemp("toy"))


def run_text(scenario: Path, out: Path, strategy: str, **overrides: object) -> RunOutcome:
    return run_toy_suite(scenario, out, strategy, {"formulation": "text"}, overrides)


def test_frozen_in_the_text_formulation_is_zero_shot_every_row_equals_row_0(scenario: Path, tmp_path: Path) -> None:
    record = run_text(scenario, tmp_path / "out", "frozen").record
    R = record.accuracy_matrix
    assert all(row == R[0] for row in R[1:])
    assert all(p == record.perplexity[0] for p in record.perplexity)


def test_icl_changes_no_weight_and_only_the_seen_tasks_prompts(scenario: Path, tmp_path: Path) -> None:
    outcome = run_text(scenario, tmp_path / "out", "icl", strategy_args={"icl": {"shots": 2}})
    pristine = run_text(scenario, tmp_path / "frozen", "frozen").model.state_dict()
    assert all(torch.equal(t, pristine[k]) for k, t in outcome.model.state_dict().items())
    assert sorted(outcome.model.contexts) == sorted(outcome.record.tasks)
    R = outcome.record.accuracy_matrix
    assert [R[1][1], R[1][2]] == [R[0][1], R[0][2]]  # tasks not yet shown are scored zero-shot


@pytest.mark.parametrize("strategy", ["naive", "ewc", "lora", "adapters", "replay", "distill", "aux_lm"])
def test_a_seq2seq_model_learns_tasks_as_text_with_each_strategy(scenario: Path, tmp_path: Path, strategy: str) -> None:
    record = run_text(scenario, tmp_path / "out", strategy, model="tiny-t5").record
    assert record.status == "finished", record.error
    assert all(v is not None for v in record.accuracy_matrix[-1]) and record.metrics["ppl_ratio"] is not None
    assert record.parameters["trainable"] > 0


def test_seq2seq_models_pose_tasks_as_text_only(scenario: Path, tmp_path: Path) -> None:
    with pytest.raises(UserError, match="is an encoder-decoder .seq2seq., which poses tasks as text only; add --formulation text"):
        run_text(scenario, tmp_path / "out", "naive", model="tiny-t5", formulation="heads")
