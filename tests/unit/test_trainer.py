"""Training on one task: what it updates, its schedule, and how it fails on NaN."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
import torch

import benchmark.suite.runner as runner
from benchmark.core.config import TrainConfig
from benchmark.suite.config import build_config
from benchmark.model.backbones import Backbone
from benchmark.model.encoding import EncodedSplit, EncodedTask
from benchmark.model.task_model import TaskModel
from benchmark.model.tiny_backbone import tiny
from benchmark.engine.objective import make_scheduler
from benchmark.engine.trainer import NumericalFault, train_task, train_tasks
from strategies.base import STRATEGIES, Strategy
from strategies.naive import Naive


def toy_task(backbone: Backbone, head: str = "t1") -> EncodedTask:
    texts = [f"good great fine {i}" if i % 2 else f"bad awful poor {i}" for i in range(32)]
    ids = backbone.tokenizer(texts)["input_ids"]
    split = EncodedSplit(ids, [i % 2 for i in range(32)])
    return EncodedTask(name=head, index=0, head=head, label_names=["neg", "pos"], train=split, test=split, data_hash="h")


def test_training_updates_the_backbone_and_this_head_only() -> None:
    backbone = tiny(texts=["good great fine bad awful poor"] + [str(i) for i in range(32)])
    model = TaskModel(backbone.model, kind="causal", head_sizes={"t1": 2, "t2": 2}, seed=0)
    before = {k: v.clone() for k, v in model.state_dict().items()}
    task = toy_task(backbone)
    stats = train_task(model, task, Naive(), TrainConfig(batch_size=8, lr=1e-3), pad_id=backbone.pad_id, generator=torch.Generator().manual_seed(0))
    after = model.state_dict()
    assert stats.steps == 4 and stats.examples == 32
    assert torch.equal(after["heads.t2.weight"], before["heads.t2.weight"])  # other task's head untouched
    assert not torch.equal(after["heads.t1.weight"], before["heads.t1.weight"])
    assert not torch.equal(after["backbone.model.layers.0.mlp.up_proj.weight"], before["backbone.model.layers.0.mlp.up_proj.weight"])


def test_the_accelerator_keeps_no_optimizer_state_after_a_task(monkeypatch: pytest.MonkeyPatch) -> None:
    """The optimizer's moments must not outlive the task (they would add up task after task)."""
    import gc
    import weakref

    from benchmark.engine.parallel import make_parallel

    backbone = tiny(texts=["good great fine bad awful poor"] + [str(i) for i in range(32)])
    model = TaskModel(backbone.model, kind="causal", head_sizes={"t1": 2}, seed=0)
    parallel = make_parallel("cpu", "fp32")
    optimizers: list[weakref.ref] = []
    original = torch.optim.AdamW.__init__

    def remembered(self: torch.optim.AdamW, *args: object, **kwargs: object) -> None:
        original(self, *args, **kwargs)
        optimizers.append(weakref.ref(self))

    monkeypatch.setattr(torch.optim.AdamW, "__init__", remembered)
    gc_was_enabled = gc.isenabled()
    gc.disable()  # freed by reference counting alone: no collection, forced or automatic, may run
    try:
        train_tasks(model, [toy_task(backbone)], Naive(), TrainConfig(batch_size=8, lr=1e-3), pad_id=backbone.pad_id,
                    generator=torch.Generator().manual_seed(0), parallel=parallel)
        assert len(optimizers) == 1
        assert optimizers[0]() is None
    finally:
        if gc_was_enabled:
            gc.enable()
    assert parallel.accelerator.step == 0


def test_warmup_then_linear_decay_to_zero() -> None:
    param = torch.nn.Parameter(torch.zeros(1))
    optimizer = torch.optim.AdamW([param], lr=1.0)
    scheduler = make_scheduler(optimizer, TrainConfig(warmup_ratio=0.2), total_steps=10)
    lrs = []
    for _ in range(10):
        lrs.append(optimizer.param_groups[0]["lr"])
        optimizer.step()
        scheduler.step()
    assert lrs[0] == 0.0 and lrs[2] == pytest.approx(1.0)
    assert lrs[2:] == sorted(lrs[2:], reverse=True)
    assert optimizer.param_groups[0]["lr"] == pytest.approx(0.0)


class NanAfter(Strategy):
    """Test strategy: returns a NaN penalty from the third step on."""

    def __init__(self) -> None:
        self.calls = 0

    def penalty(self, model, batch, outputs):  # noqa: ANN001, ANN201
        self.calls += 1
        return torch.tensor(float("nan")) if self.calls >= 3 else None


def test_nan_loss_names_task_and_step() -> None:
    backbone = tiny(texts=["good great fine bad awful poor"])
    model = TaskModel(backbone.model, kind="causal", head_sizes={"t1": 2}, seed=0)
    with pytest.raises(NumericalFault, match=r"on task 't1' at step 3"):
        train_task(model, toy_task(backbone), NanAfter(), TrainConfig(batch_size=4), pad_id=backbone.pad_id, generator=torch.Generator())


@pytest.fixture
def nan_strategy() -> Iterator[str]:
    STRATEGIES.add("nan_after_test", NanAfter)
    yield "nan_after_test"
    STRATEGIES._entries.pop("nan_after_test")


def test_a_failed_run_writes_a_partial_record_marked_failed(toy_scenario: Path, tmp_path: Path, nan_strategy: str) -> None:
    config = build_config(overrides=[{
        "scenario": str(toy_scenario), "model": "tiny", "out": str(tmp_path / "out"), "progress": False,
        "strategies": ["naive", nan_strategy], "eval": {"ppl_tokens": 256, "ppl_context": 32},
    }])
    ok, failed = runner.run_suite(config)
    assert ok.status == "finished" and failed.status == "failed"
    assert "task 'task1' at step 3" in failed.error
    assert failed.metrics == {} and failed.accuracy_matrix[1] == [None, None, None]
    assert (tmp_path / "out" / f"{failed.run_id}.json").is_file()


class SeesLogits(Strategy):
    """Test strategy: records the dtype of the logits and the step number of every penalty call."""

    def __init__(self) -> None:
        self.dtypes: list[torch.dtype] = []
        self.steps: list[int] = []

    def penalty(self, model, batch, outputs):  # noqa: ANN001, ANN201
        self.dtypes.append(outputs.dtype)
        self.steps.append(batch["step"])
        return None


@pytest.mark.parametrize("precision,expected", [("fp32", torch.float32), ("bf16", torch.bfloat16), ("fp16", torch.float16)])
def test_mixed_precision_runs_the_step_in_half_precision_and_leaves_the_model_plain(precision: str, expected: torch.dtype) -> None:
    backbone = tiny(texts=["good great fine bad awful poor"] + [str(i) for i in range(32)])
    model = TaskModel(backbone.model, kind="causal", head_sizes={"t1": 2}, seed=0)
    seen = SeesLogits()
    task = toy_task(backbone)
    train_task(model, task, seen, TrainConfig(batch_size=8, precision=precision), pad_id=backbone.pad_id, generator=torch.Generator().manual_seed(0))
    assert seen.dtypes == [expected] * 4
    assert all(p.dtype == torch.float32 for p in model.parameters())  # weights stay fp32 (master copy)
    batch = task.test.batch([0, 1], backbone.pad_id)
    assert model(batch["input_ids"], batch["attention_mask"], "t1").dtype == torch.float32  # accelerate's autocast patch is undone


def test_accumulation_calls_the_penalty_per_micro_batch_with_the_optimizer_step() -> None:
    backbone = tiny(texts=["good great fine bad awful poor"] + [str(i) for i in range(32)])
    model = TaskModel(backbone.model, kind="causal", head_sizes={"t1": 2}, seed=0)
    seen = SeesLogits()
    stats = train_task(model, toy_task(backbone), seen, TrainConfig(batch_size=8, grad_accum_steps=2), pad_id=backbone.pad_id, generator=torch.Generator().manual_seed(0))
    assert stats.steps == 4 and seen.steps == [0, 0, 1, 1, 2, 2, 3, 3]
