"""Unit-level mechanism tests: EWC's penalty and Fisher, replay's buffer, aux_lm's schedule, distill, schedules."""

from __future__ import annotations

from collections import Counter
from types import SimpleNamespace

import pytest
import torch
from torch import nn

from benchmark.core.config import TrainConfig
from benchmark.model.encoding import EncodedSplit, EncodedTask
from benchmark.model.task_model import TaskModel
from benchmark.model.tiny_backbone import tiny
from benchmark.engine.objective import parameter_groups
from benchmark.engine.trainer import GradualUnfreezing, train_task
from strategies.aux_lm import AuxiliaryLM
from strategies.ewc import EWC
from strategies.fisher import batch_fisher, empirical_fisher
from strategies.naive import Naive
from strategies.replay import Replay

WORDS = "good great fine bad awful poor film movie plot actor".split()


def two_parameter_model(values: list[float]) -> SimpleNamespace:
    """Something with a ``backbone`` holding one 2-element parameter, enough for EWC's penalty."""
    backbone = nn.Module()
    backbone.w = nn.Parameter(torch.tensor(values))
    return SimpleNamespace(backbone=backbone)


@pytest.mark.parametrize("mode", ["separate", "online"])
def test_ewc_penalty_equals_the_closed_form(mode: str) -> None:
    ewc = EWC(ewc_lambda=3.0, mode=mode, gamma=0.5)
    model = two_parameter_model([1.0, -2.0])
    f1, f2 = torch.tensor([0.5, 2.0]), torch.tensor([1.5, 0.25])
    ewc.consolidate({"w": f1}, dict(model.backbone.named_parameters()))  # anchor theta*_1 = (1, -2)
    with torch.no_grad():
        model.backbone.w.copy_(torch.tensor([0.0, 1.0]))
    ewc.consolidate({"w": f2}, dict(model.backbone.named_parameters()))  # anchor theta*_2 = (0, 1)
    with torch.no_grad():
        model.backbone.w.copy_(torch.tensor([2.0, 3.0]))
    theta, a1, a2 = torch.tensor([2.0, 3.0]), torch.tensor([1.0, -2.0]), torch.tensor([0.0, 1.0])
    if mode == "separate":  # lambda/2 * sum_t F_t (theta - theta*_t)^2
        expected = 1.5 * float((f1 * (theta - a1) ** 2).sum() + (f2 * (theta - a2) ** 2).sum())
    else:  # lambda/2 * (gamma F_1 + F_2) (theta - theta*_2)^2
        expected = 1.5 * float(((0.5 * f1 + f2) * (theta - a2) ** 2).sum())
    assert ewc.penalty(model, {}, None).item() == pytest.approx(expected, rel=1e-6)


def test_ewc_separate_mode_keeps_constant_state_whatever_the_number_of_tasks() -> None:
    ewc = EWC(mode="separate")
    model = two_parameter_model([0.0, 0.0])
    sizes = []
    for t in range(5):
        with torch.no_grad():
            model.backbone.w.add_(1.0)
        ewc.consolidate({"w": torch.rand(2) + t}, dict(model.backbone.named_parameters()))
        sizes.append(ewc.extra_memory_bytes())
    assert len(set(sizes)) == 1  # two tensors per parameter, not one copy per task


def fixture_task(backbone, n: int = 12) -> EncodedTask:  # noqa: ANN001
    generator = torch.Generator().manual_seed(0)
    texts = [" ".join(WORDS[int(i)] for i in torch.randint(0, len(WORDS), (int(3 + k % 5),), generator=generator)) for k in range(n)]
    ids = backbone.tokenizer(texts)["input_ids"]
    split = EncodedSplit(ids, [k % 2 for k in range(n)])
    return EncodedTask(name="t", index=0, head="t", label_names=["a", "b"], train=split, test=split, data_hash="h")


def per_example_reference(model: TaskModel, task: EncodedTask) -> dict[str, torch.Tensor]:
    reference = {n: torch.zeros_like(p) for n, p in model.backbone.named_parameters()}
    for ids, label in zip(task.train.input_ids, task.train.labels):
        x = torch.tensor([ids])
        model.zero_grad()
        torch.nn.functional.cross_entropy(model(x, torch.ones_like(x), "t"), torch.tensor([label])).backward()
        for n, p in model.backbone.named_parameters():
            reference[n] += p.grad**2 / len(task.train)
    return reference


def test_empirical_fisher_is_the_mean_squared_per_example_gradient_and_batch_fisher_is_smaller() -> None:
    backbone = tiny(texts=[" ".join(WORDS)])
    model = TaskModel(backbone.model, kind="causal", head_sizes={"t": 2}, seed=0)
    task = fixture_task(backbone)
    examples = list(zip(task.train.input_ids, task.train.labels))
    empirical = empirical_fisher(model, examples, objective="classification", head="t", pad_id=backbone.pad_id, chunk_size=5)
    reference = per_example_reference(model, task)
    assert set(empirical) == {n for n, p in model.backbone.named_parameters() if p.requires_grad}
    for name, value in empirical.items():
        assert value.shape == dict(model.backbone.named_parameters())[name].shape
        assert (value >= 0).all()
        torch.testing.assert_close(value, reference[name], atol=1e-6, rtol=1e-4)
    batch = batch_fisher(model, examples, objective="classification", head="t", pad_id=backbone.pad_id, batch_size=6)
    total_empirical = sum(float(v.sum()) for v in empirical.values())
    total_batch = sum(float(v.sum()) for v in batch.values())
    assert all((v >= 0).all() for v in batch.values())
    assert total_batch < total_empirical  # squaring a mean gradient cancels per-example noise


def test_ewc_pretrained_anchor_is_set_before_any_task() -> None:
    backbone = tiny(texts=[" ".join(WORDS)])
    model = TaskModel(backbone.model, kind="causal", head_sizes={"t": 2}, seed=0)
    ewc = EWC(anchor="pretrained", fisher_samples=4)
    ewc.bind(SimpleNamespace(backbone=backbone, general_texts=[" ".join(WORDS[i:] + WORDS[:i]) for i in range(6)], pad_id=backbone.pad_id, seed=0, parallel=None, train=TrainConfig()))
    ewc.wrap_model(model)
    params = dict(model.backbone.named_parameters())
    assert ewc.importance and all((f >= 0).all() for f in ewc.importance.values())
    assert all(torch.equal(ewc.center[n], params[n]) for n in ewc.center)
    assert ewc.penalty(model, {}, None).item() == 0.0  # at the anchor the penalty vanishes


def test_aux_lm_weight_decays_exponentially_over_the_steps_of_a_task() -> None:
    strategy = AuxiliaryLM(gamma0=0.5, decay=0.8)
    assert [strategy.gamma(s) for s in range(3)] == pytest.approx([0.5, 0.4, 0.32])
    backbone = tiny(texts=[" ".join(WORDS)])
    model = TaskModel(backbone.model, kind="causal", head_sizes={"t": 2}, seed=0)
    strategy.bind(SimpleNamespace(backbone=backbone))
    task = fixture_task(backbone, n=12)
    strategy.before_task(model, task)
    stats = train_task(model, task, strategy, TrainConfig(batch_size=4), pad_id=backbone.pad_id, generator=torch.Generator().manual_seed(0))
    assert strategy.step == stats.steps == 3
    strategy.before_task(model, task)
    assert strategy.step == 0  # the schedule restarts with every task


def test_replay_buffer_stays_within_size_and_class_balanced() -> None:
    replay = Replay(buffer_size=10)
    replay.bind(SimpleNamespace(seed=0))
    sizes = []
    for index, classes in enumerate([2, 3, 2]):
        labels = [k % classes for k in range(30)]
        split = EncodedSplit([[index, k, 1] for k in range(30)], labels)
        replay.after_task(None, EncodedTask(name=f"t{index}", index=index, head=f"t{index}", label_names=[str(c) for c in range(classes)], train=split, test=split, data_hash=""))
        counts = Counter(f"{head}/{label}" for _, label, head in replay.examples())
        sizes.append(len(replay.examples()))
        assert len(replay.examples()) <= 10
        assert max(counts.values()) - min(counts.values()) <= 1
    assert sizes == [10, 10, 10]
    assert len({k.split("/")[0] for k in replay.buffer}) == 3


def test_replay_keeps_an_equal_share_of_every_free_text_task() -> None:
    from benchmark.model.generation_task import GenerationTask

    replay = Replay(buffer_size=10)
    replay.bind(SimpleNamespace(seed=0))
    for index, head in enumerate(["zeta", "alpha", "mid"]):  # keys that sort apart from the task order
        split = EncodedSplit([[index, k, 1] for k in range(30)], list(range(30)))  # a free-text task: each example its own label
        how = GenerationTask(metric="rouge_l", references=[["x"]] * 30, sources=None, answer_pattern=None, stop=(), max_new_tokens=4)
        replay.after_task(None, EncodedTask(name=head, index=index, head=head, label_names=[], train=split, test=split, data_hash="", generation=how))
        per_task = Counter(head for _, _, head in replay.examples())
        assert max(per_task.values()) - min(per_task.values()) <= 1 and sum(per_task.values()) == 10, per_task
        assert all(ids[0] == {"zeta": 0, "alpha": 1, "mid": 2}[h] and ids[1] == label for ids, label, h in replay.examples())  # each with its own answer
    kept = sorted(label for _, label, h in replay.examples() if h == "zeta")
    assert kept != list(range(len(kept)))  # a random draw of the task's examples, not its first ones


def test_discriminative_learning_rates_decay_towards_the_embeddings() -> None:
    backbone = tiny(texts=[" ".join(WORDS)])
    model = TaskModel(backbone.model, kind="causal", head_sizes={"t": 2}, seed=0)
    task = fixture_task(backbone)
    groups = parameter_groups(model, [task], TrainConfig(lr=1.0, head_lr=5.0, layer_lr_decay=0.5))
    lrs = [g["lr"] for g in groups]
    # depths: embeddings 0, blocks 1-2, final norm 3 -> 0.125, 0.25, 0.5, 1.0; head last
    assert lrs == [0.125, 0.25, 0.5, 1.0, 5.0]
    embedding = model.backbone.get_input_embeddings().weight
    assert any(p is embedding for p in groups[0]["params"])


def test_gradual_unfreezing_trains_the_top_first() -> None:
    backbone = tiny(texts=[" ".join(WORDS)])
    model = TaskModel(backbone.model, kind="causal", head_sizes={"t": 2}, seed=0)
    before = {k: v.clone() for k, v in model.state_dict().items()}
    task = fixture_task(backbone, n=8)
    train_task(model, task, Naive(), TrainConfig(batch_size=4, unfreeze_every=100, lr=1e-2), pad_id=backbone.pad_id, generator=torch.Generator().manual_seed(0))
    after = model.state_dict()
    assert not torch.equal(after["backbone.model.norm.weight"], before["backbone.model.norm.weight"])  # top: trained
    assert not torch.equal(after["heads.t.weight"], before["heads.t.weight"])
    for key in before:
        if ".layers." in key or "embed_tokens" in key:
            assert torch.equal(after[key], before[key]), key  # blocks and embeddings still frozen
    assert all(p.requires_grad for p in model.backbone.parameters())  # flags restored afterwards


def test_gradual_unfreezing_reaches_every_block() -> None:
    backbone = tiny(texts=[" ".join(WORDS)])
    model = TaskModel(backbone.model, kind="causal", head_sizes={"t": 2}, seed=0)
    schedule = GradualUnfreezing(model, every=2)
    trainable = []
    for step in range(8):
        schedule.apply(step)
        trainable.append(sum(p.requires_grad for p in model.backbone.parameters()))
    assert trainable == sorted(trainable) and trainable[-1] == len(list(model.backbone.parameters()))
    assert trainable[0] < trainable[-1]
