"""``progressive_prompts``: one soft prompt per task in front of the earlier ones; earlier prompts and the backbone never move."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

from benchmark.core.config import TrainConfig
from benchmark.core.errors import UserError
from benchmark.engine.objective import parameter_groups
from benchmark.engine.strategy_building import check_formulation
from benchmark.model.task_model import TaskModel
from benchmark.model.tiny_backbone import tiny
from strategies.progressive_prompts import ProgressivePrompts
from strategies.virtual_tokens import VirtualTokens
from tests.conftest import write_free_text_scenario, write_toy_scenario
from tests.runs.test_strategies import base_weights
from tests.runs.test_weights_dtype import suite


@pytest.fixture(scope="module")
def scenario(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_toy_scenario(tmp_path_factory.mktemp("toy"), n_tasks=3, n_per_class=30, train_size=32, test_size=16)


def test_earlier_prompts_stay_bit_identical_the_backbone_never_moves_and_perplexity_is_row_0s(
    scenario: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
) -> None:
    before, after = [], []
    spy_before, spy_after = ProgressivePrompts.before_task, ProgressivePrompts.after_task

    def snap(self: ProgressivePrompts) -> list[torch.Tensor]:
        return [block.vectors.detach().clone() for block in self.tokens.blocks]

    def on_before(self: ProgressivePrompts, model: TaskModel, task: object) -> None:
        spy_before(self, model, task)
        before.append(snap(self))

    def on_after(self: ProgressivePrompts, model: TaskModel, task: object) -> None:
        spy_after(self, model, task)
        after.append(snap(self))

    monkeypatch.setattr(ProgressivePrompts, "before_task", on_before)
    monkeypatch.setattr(ProgressivePrompts, "after_task", on_after)
    outcomes = suite(scenario, tmp_path / "out", ["frozen", "progressive_prompts"], formulation="text", train={"lr": 3e-3, "batch_size": 8})
    assert len(after) == 3 and [len(s) for s in after] == [1, 2, 3]
    for t in range(3):
        assert not torch.equal(after[t][t], before[t][t])  # the task's own prompt trained
        assert all(torch.equal(later[k], after[t][k]) for later in after[t + 1:] for k in range(t + 1))  # then never again
    prompted, frozen = outcomes["progressive_prompts"], outcomes["frozen"]
    pretrained, kept = base_weights(frozen.model), base_weights(prompted.model)
    assert kept.keys() == pretrained.keys() and all(torch.equal(kept[k], pretrained[k]) for k in pretrained)
    perplexity = prompted.record.measures["perplexity"]
    assert perplexity == [perplexity[0]] * 4 and perplexity == frozen.record.measures["perplexity"]  # no prompt on the LM path
    assert prompted.record.accuracy_matrix[-1] != frozen.record.accuracy_matrix[-1]  # the prompts change how tasks are answered


def test_the_progressive_prompt_puts_the_newest_prompt_first_and_every_task_is_scored_behind_the_whole_prompt() -> None:
    backbone = tiny(texts=["a b c d"])
    model = TaskModel(backbone.model, kind="causal", head_sizes={}, seed=0, formulation="text")
    tasks = [type("Task", (), {"name": n, "test": type("Split", (), {"input_ids": [[5, 6]]})()})() for n in "abc"]
    strategy = ProgressivePrompts(prompt_length=2)
    strategy.bind(type("Run", (), {"seed": 0, "tasks": tasks})())
    strategy.wrap_model(model)
    for task in tasks[:2]:
        strategy.before_task(model, task)
        strategy.after_task(model, task)
    strategy.before_task(model, tasks[2])
    ids = strategy.prompt_ids
    assert strategy.prefix(newest="c") == ids["c"] + ids["b"] + ids["a"]
    assert model.contexts["c"] == [ids["b"] + ids["a"] + [5, 6]]  # a task not yet learned is scored behind what has been
    assert [b.vectors.requires_grad for b in strategy.tokens.blocks] == [False, False, True]
    groups = parameter_groups(model, [], TrainConfig(lr=1e-4))
    assert [(g["lr"], len(g["params"])) for g in groups] == [(0.3, 1)]  # only the new prompt, at its own rate


def test_virtual_tokens_are_the_vectors_spliced_into_the_input_embeddings_and_leave_other_passes_untouched() -> None:
    backbone = tiny(texts=["a b c d"])
    model = TaskModel(backbone.model, kind="causal", head_sizes={}, seed=0, formulation="text")
    ids = torch.tensor([[3, 4, 5, 6]])
    plain = model.backbone(input_ids=ids).logits
    tokens = VirtualTokens.of(model)
    vectors = torch.randn(2, backbone.model.get_input_embeddings().embedding_dim, generator=torch.Generator().manual_seed(0))
    virtual = tokens.add(vectors)
    assert torch.equal(model.backbone(input_ids=ids).logits, plain)  # no virtual id: the backbone's own pass, bit for bit
    with_prompt = model.backbone(input_ids=torch.tensor([virtual + [3, 4, 5, 6]])).logits
    spliced = torch.cat([vectors[None], model.backbone.get_input_embeddings()(ids)], dim=1)
    assert torch.allclose(with_prompt, model.backbone(inputs_embeds=spliced).logits, atol=1e-6)
    assert VirtualTokens.of(model) is tokens  # one table per model, shared by every strategy that adds tokens


def test_it_runs_on_free_text_tasks_and_is_refused_with_heads(tmp_path: Path) -> None:
    free = write_free_text_scenario(tmp_path / "free", metrics=("rouge_l", "exact_match"), n=30, train_size=16, test_size=6)
    outcome = suite(free, tmp_path / "out", ["progressive_prompts"], eval={"ppl_tokens": 0})["progressive_prompts"]
    assert outcome.record.status == "finished" and all(v is not None for v in outcome.record.accuracy_matrix[-1])
    with pytest.raises(UserError, match="works only in the text and generate formulations"):
        check_formulation("progressive_prompts", "heads")
