"""The memory plan counts by hand: each part of a small shape, sharding, checkpointing, the weights' type."""

from __future__ import annotations

import dataclasses

import pytest

from benchmark.core.config import SuiteConfig, TrainConfig, EvalConfig
from benchmark.core.errors import UserError
from benchmark.engine.memory_guard import USABLE_FRACTION, check_memory, estimate_run_bytes
from benchmark.model.backbones import load_backbone
from benchmark.engine.memory_plan import GIB, RUNTIME_BYTES, ModelShape, plan_run
from benchmark.model.meta_model import structure_of
from strategies.base import build_strategy

# 1,000 parameters, 2 blocks of width 8, a 50-word vocabulary, keys + values 8 wide per token.
SHAPE = ModelShape(parameters=1000, layers=2, hidden=8, vocab=50, kv_width=8)


def config(**train: object) -> SuiteConfig:
    return SuiteConfig(train=TrainConfig(batch_size=4, **train), eval=EvalConfig(batch_size=2, ppl_batch_size=1, ppl_context=9))


def parts(strategy: str, dtype: str = "fp32", shards: int = 1, **train: object) -> dict[str, int]:
    plan = plan_run(SHAPE, build_strategy(strategy, {}), config(**train), dtype=dtype, max_length=10, shards=shards)
    return {line.part: line.bytes for line in plan.lines}


def test_naive_in_float32_by_hand() -> None:
    assert parts("naive") == {
        "runtime": RUNTIME_BYTES,
        "pretrained copy": 4000,          # 1,000 x 4 bytes
        "weights": 4000,
        "strategy modules": 0,            # naive adds none
        "gradients": 4000,
        "optimizer state": 8000,          # Adam's two moments
        "strategy state": 0,
        "training step": 61440,           # 4 x 10 tokens x 2 blocks x 8 wide x 24 floats x 4 bytes
        "evaluation": 0,                  # smaller than the step: max(1 x 10 x 50 x 4 x 2 = 4000, 2 x 10 x 2 x 8 x 4 = 1280)
    }


def test_sharding_divides_what_is_sharded_and_nothing_on_the_host() -> None:
    whole, quarter = parts("l2sp"), parts("l2sp", shards=4)
    for part in ("weights", "gradients", "optimizer state", "strategy state"):
        assert quarter[part] == whole[part] // 4, part
    assert whole["strategy state"] == 2 * 4000  # the anchor, and theta - theta0 saved for backward
    for part in ("runtime", "pretrained copy"):
        assert quarter[part] == whole[part], part
    assert quarter["training step"] == whole["training step"] // 4  # each process runs 1 of the batch's 4 examples
    accumulated = parts("l2sp", grad_accum_steps=2)
    assert accumulated["training step"] == whole["training step"] // 2


def test_bf16_halves_the_weights_and_checkpointing_keeps_one_block_plus_the_inputs() -> None:
    half = parts("naive", dtype="bf16")
    assert (half["weights"], half["gradients"], half["optimizer state"]) == (2000, 2000, 4000)
    assert half["training step"] == 61440 // 2  # activations in bf16 too
    checkpointed = parts("naive", gradient_checkpointing=True)
    assert checkpointed["training step"] == int(4 * 10 * (1 + 2 / 24) * 8 * 24 * 4)  # 1 block recomputed + each block's input


def test_a_frozen_backbone_has_no_gradients_or_optimizer_state_counted() -> None:
    lora = parts("lora")
    assert (lora["gradients"], lora["optimizer state"]) == (0, 0)


@pytest.mark.parametrize(("name", "layers", "hidden", "kv_width", "vocab"), [
    ("llama-3.1-8b", 32, 4096, 2 * 8 * 128, 128256), ("qwen2.5-7b", 28, 3584, 2 * 4 * 128, 152064), ("t5-large", 48, 1024, 2 * 16 * 64, 32128),
])
def test_the_shape_of_a_shipped_architecture_comes_from_the_meta_device(name: str, layers: int, hidden: int, kv_width: int, vocab: int) -> None:
    shape = ModelShape.of(structure_of(name))
    assert (shape.layers, shape.hidden, shape.kv_width, shape.vocab) == (layers, hidden, kv_width, vocab)
    assert shape.parameters / GIB > 0.5


def test_a_refused_run_names_the_changes_whose_plan_fits() -> None:
    backbone = load_backbone("tiny", texts=["a few words of text"] * 3)
    naive = build_strategy("naive", {})
    suite = config()
    float32 = estimate_run_bytes(backbone, naive, suite, 64)
    checkpointed = dataclasses.replace(suite, train=dataclasses.replace(suite.train, gradient_checkpointing=True))
    half = load_backbone("tiny", texts=["a few words of text"] * 3, dtype="bf16")
    alone = min(estimate_run_bytes(half, naive, suite, 64), estimate_run_bytes(backbone, naive, checkpointed, 64))
    smallest = estimate_run_bytes(half, naive, checkpointed, 64)
    assert smallest < alone < float32
    available = int((smallest + alone) / 2 / USABLE_FRACTION)  # room for the two changes together only
    sharded = [n for n in (2, 4, 8) if estimate_run_bytes(backbone, naive, suite, 64, shards=n) <= USABLE_FRACTION * available]
    over = f" or --sharding fsdp over {sharded[0]} processes" if sharded else ""
    with pytest.raises(UserError, match=rf"; --dtype bf16 --gradient-checkpointing{over} would fit, or use a smaller --batch-size"):
        check_memory(backbone, [naive], dataclasses.replace(suite, strategies=["naive"]), 64, available=available)


def test_a_refused_run_names_the_fewest_processes_that_sharding_would_fit_and_a_sharded_run_is_planned_per_part() -> None:
    backbone = load_backbone("tiny", texts=["a few words of text"] * 3)
    naive, suite = build_strategy("naive", {}), dataclasses.replace(config(), strategies=["naive"])
    whole, halves, quarters = (estimate_run_bytes(backbone, naive, suite, 64, shards=n) for n in (1, 2, 4))
    assert quarters < halves < whole
    between = int((quarters + halves) / 2 / USABLE_FRACTION)  # four processes fit, two do not
    with pytest.raises(UserError, match=r"--sharding fsdp over 4 processes would fit"):
        check_memory(backbone, [naive], suite, 64, available=between)
    check_memory(backbone, [naive], suite, 64, available=between, shards=4)  # the sharded run itself fits: no error


@pytest.mark.parametrize(("name", "arguments"), [
    ("lora", {}), ("lora", {"per_task": True}), ("lora", {"target_modules": ["o_proj", "down_proj"]}),
    ("adapters", {}), ("adapters", {"per_task": False}),
])
def test_the_plan_counts_exactly_the_parameters_a_strategy_adds_over_a_run(name: str, arguments: dict) -> None:
    from types import SimpleNamespace

    from benchmark.model.task_model import TaskModel, count_parameters

    backbone = load_backbone("tiny", texts=["a few words of text"] * 3)
    heads = ["first", "second", "third"]
    planned = build_strategy(name, {name: arguments}).added_parameters(backbone.model, len(heads))
    strategy = build_strategy(name, {name: arguments})
    strategy.bind(SimpleNamespace(seed=0, tasks=[SimpleNamespace(head=h) for h in heads]))
    model = TaskModel(backbone.model, kind="causal", head_sizes={h: 2 for h in heads}, seed=0)
    before = count_parameters(model)
    model = strategy.wrap_model(model)
    for head in heads:  # per-task sets are added as their tasks begin
        strategy.before_task(model, SimpleNamespace(head=head))
    assert planned == count_parameters(model) - before > 0
    plan = plan_run(SHAPE, build_strategy(name, {name: arguments}), config(), dtype="fp32", max_length=10, added=planned)
    lines = {line.part: line.bytes for line in plan.lines}
    assert lines["strategy modules"] == 4 * planned and lines["gradients"] == 4 * planned and lines["optimizer state"] == 8 * planned
