"""``lamol``: pseudo-examples of earlier tasks are written with a seed, split at the prompts' end, and mixed in at gamma."""

from __future__ import annotations

import math
from pathlib import Path

import pytest
import torch
import torch.nn.functional as F

from benchmark.core.errors import UserError
from benchmark.model.task_model import TaskModel
from benchmark.model.tiny_backbone import tiny
from strategies import lamol as lamol_module
from strategies.lamol import LAMOL
from strategies.pseudo_examples import AnswerEnded, common_end, sample_examples, split_example
from strategies.virtual_tokens import VirtualTokens
from tests.conftest import write_toy_scenario
from tests.runs.test_weights_dtype import suite

EOS = 2


@pytest.fixture(scope="module")
def scenario(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_toy_scenario(tmp_path_factory.mktemp("toy"), n_tasks=3, n_per_class=30, train_size=32, test_size=16)


def test_a_generated_example_splits_after_the_last_answer_mark_and_only_whole_examples_count() -> None:
    mark = [7, 8]
    assert split_example([1, 7, 8, 3, 7, 8, 4, 5, EOS, 0, 0], mark, EOS) == ([1, 7, 8, 3, 7, 8], [4, 5, EOS])
    assert split_example([1, 7, 8, 4, 5], mark, EOS) is None  # cut off before its end
    assert split_example([1, 3, 4, EOS], mark, EOS) is None  # no mark
    assert split_example([1, 7, 8, EOS], mark, EOS) is None  # an empty answer
    assert split_example([1, EOS, 3, 7, 8, 4, EOS, 5], mark, EOS) == ([1, EOS, 3, 7, 8], [4, EOS])  # a chat prompt's own end-of-turn
    assert split_example([EOS, 7, 9, 4, EOS], [EOS, 7], EOS) == ([EOS, 7], [9, 4, EOS])  # a mark that starts with end-of-turn
    assert common_end([[5, 1, 7, 8], [6, 6, 2, 7, 8], [3, 7, 8]]) == [7, 8]
    assert common_end([[1, 2], [1, 3]]) == []


def test_sampling_stops_a_sequence_after_the_answer_mark_and_its_end_not_at_an_end_of_turn_inside_the_prompt() -> None:
    stop = AnswerEnded([7, 8], EOS, start=1)
    rows = torch.tensor([[99, 1, EOS, 3, 7, 8], [99, 1, EOS, 7, 8, 4], [99, 3, 7, 8, 4, EOS], [99, 7, 8, EOS, 0, 0]])
    assert stop(rows, torch.zeros(4, 10)).tolist() == [False, False, True, False]  # the last: an empty answer is not an end


def test_sampling_is_seeded_and_leaves_the_global_generator_alone() -> None:
    backbone = tiny(texts=["a b c d e f g h"])
    model = TaskModel(backbone.model, kind="causal", head_sizes={}, seed=0, formulation="text")
    (token,) = VirtualTokens.of(model).add(torch.randn(1, 64, generator=torch.Generator().manual_seed(0)))
    state = torch.get_rng_state()
    draw = [sample_examples(model, token, 20, max_new_tokens=6, pad=0, eos=1, seed=s) for s in (5, 5, 6)]
    assert torch.equal(torch.get_rng_state(), state)
    assert draw[0] == draw[1] and draw[0] != draw[2]
    assert len(draw[0]) == 20 and all(len(row) <= 6 for row in draw[0])


def test_pseudo_examples_are_mixed_in_at_gamma_in_equal_shares_and_only_parsed_ones_train(
    scenario: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
) -> None:
    asked, trained_sizes = [], []
    by_token: dict[int, object] = {}

    def written(model: TaskModel, token: int, count: int, **settings: object) -> list[list[int]]:
        """The earlier task's own training examples as if the model wrote them, every third one cut short."""
        asked.append((token, count))
        task = by_token[token]
        eos = settings["eos"]
        examples = [list(p) + list(task.train.answers[y]) for p, y in zip(task.train.input_ids, task.train.labels)]
        return [e if k % 3 else e[: e.index(eos)] for k, e in enumerate(examples[:count])]

    real_training_task = LAMOL.training_task

    def spy(self: LAMOL, model: TaskModel, task: object) -> object:
        by_token.update({self.generation_token[t.name]: t for t in self.run.tasks})
        made = real_training_task(self, model, task)
        trained_sizes.append((len(task.train), len(made.train), list(self.example_tokens)))
        return made

    monkeypatch.setattr(lamol_module, "sample_examples", written)
    monkeypatch.setattr(LAMOL, "training_task", spy)
    outcome = suite(scenario, tmp_path / "out", ["lamol"], formulation="text", strategy_args={"lamol": {"gamma": 0.5}})["lamol"]
    report = outcome.record.extra["strategy"]["lamol"]["pseudo_examples"]
    n = 32
    assert [c for _, c in asked] == [math.ceil(0.5 * n), *[math.ceil(0.5 * n) // 2] * 2]  # 16 from task 1, then 8 and 8
    assert report == {"task2": {"generated": 16, "parsed": 10}, "task3": {"generated": 16, "parsed": 10}}  # 1 in 3 cut short
    assert [(own, total) for own, total, _ in trained_sizes] == [(n, n), (n, n + 10), (n, n + 10)]
    tokens = trained_sizes[2][2]
    assert tokens[:n] == [tokens[0]] * n and len(set(tokens[n:])) == 2  # the last task's own token, then both earlier ones'


def test_the_extra_loss_is_lm_lambda_times_the_whole_examples_language_model_loss_after_the_generation_token() -> None:
    backbone = tiny(texts=["a b c d e f g h"])
    model = TaskModel(backbone.model, kind="causal", head_sizes={}, seed=0, formulation="text")
    strategy = LAMOL(lm_lambda=0.25)
    (token,) = VirtualTokens.of(model).add(torch.randn(1, 64, generator=torch.Generator().manual_seed(0)))
    strategy.example_tokens = [token, token]
    batch = {"input_ids": torch.tensor([[3, 4, 5, 6], [3, 5, 0, 0]]), "attention_mask": torch.tensor([[1, 1, 1, 1], [1, 1, 0, 0]]),
             "labels": torch.tensor([1, 0])}
    value = strategy.penalty(model, batch, torch.zeros(1))
    ids = torch.tensor([[token, 3, 4, 5, 6], [token, 3, 5, 0, 0]])
    logits = model.backbone(input_ids=ids, attention_mask=torch.tensor([[1] * 5, [1, 1, 1, 0, 0]])).logits
    expected = F.cross_entropy(torch.cat([logits[0, :4], logits[1, :2]]), torch.tensor([3, 4, 5, 6, 3, 5]))
    assert torch.allclose(value, 0.25 * expected, atol=1e-6)
    assert LAMOL(lm_lambda=0.0).penalty(model, batch, torch.zeros(1)) is None


def test_it_is_refused_for_an_encoder_decoder_model() -> None:
    backbone = type("Backbone", (), {"kind": "seq2seq", "name": "t5-small"})()
    with pytest.raises(UserError, match="decoder to write whole examples"):
        LAMOL().check_backbone(backbone)


def test_with_no_lm_loss_and_nothing_parsed_it_is_naive_bit_for_bit_so_writing_examples_disturbs_no_draw(scenario: Path, tmp_path: Path) -> None:
    outcomes = suite(scenario, tmp_path / "out", ["naive", "lamol"], formulation="text", strategy_args={"lamol": {"lm_lambda": 0.0}})
    lamol, naive = outcomes["lamol"].record, outcomes["naive"].record
    assert lamol.extra["strategy"]["lamol"]["pseudo_examples"] == {  # the tiny model writes, but nothing it writes parses
        "task2": {"generated": 7, "parsed": 0}, "task3": {"generated": 6, "parsed": 0},
    }
    assert lamol.measures == naive.measures
