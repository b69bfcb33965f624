"""One trainer: every module that updates weights goes through the trainer's step.

The recovery measures fine-tune a copy through :func:`finetune_copy`: with clipping
off it is exactly the textbook AdamW loop, with clipping on the update is clipped as
the run's is, and the run's model is never touched. A test over every module finds no
other call of ``backward()`` or an optimizer's ``step()``.
"""

from __future__ import annotations

import ast
from pathlib import Path

import torch

from benchmark.engine.finetune import finetune_copy
from benchmark.engine.objective import task_loss
from benchmark.model.task_model import TaskModel
from benchmark.model.tiny_backbone import tiny
from tests.unit.test_trainer import toy_task

ROOT = Path(__file__).resolve().parents[2]
PROJECT = ("benchmark", "strategies", "scenarios", "leaderboard")
STEPPING = ROOT / "benchmark" / "engine" / "stepping.py"
# Avalanche's engine runs Avalanche's own loop: it is the independent implementation forgetbench is cross-checked against.
OWN_LOOP = ROOT / "strategies" / "avalanche"


def setup() -> tuple[TaskModel, list[dict], object]:
    backbone = tiny(texts=["good great fine bad awful poor"] + [str(i) for i in range(32)])
    model = TaskModel(backbone.model, kind="causal", head_sizes={"t1": 2}, seed=0)
    task = toy_task(backbone)
    batches = [{**task.train.batch(list(range(k, k + 8)), backbone.pad_id), "head": "t1"} for k in (0, 8, 16)]
    return model, batches, lambda m, b: task_loss(m, b, b["head"])[0]


def all_weights(model: TaskModel) -> list[dict]:
    return [{"params": list(model.parameters()), "lr": 1e-3}]


def test_without_clipping_the_copy_is_the_textbook_adamw_loop_bit_for_bit() -> None:
    model, batches, loss = setup()
    before = {k: v.clone() for k, v in model.state_dict().items()}
    copy = finetune_copy(model, batches, loss, groups=all_weights, weight_decay=0.0, max_grad_norm=None, precision="fp32")
    reference = TaskModel(tiny(texts=["good great fine bad awful poor"] + [str(i) for i in range(32)]).model, kind="causal", head_sizes={"t1": 2}, seed=0)
    optimizer = torch.optim.AdamW(reference.parameters(), lr=1e-3, weight_decay=0.0)
    reference.train()
    for batch in batches:
        optimizer.zero_grad()
        loss(reference, batch).backward()
        optimizer.step()
    for (name, a), b in zip(copy.state_dict().items(), reference.state_dict().values()):
        assert torch.equal(a, b), name
    assert all(torch.equal(v, before[k]) for k, v in model.state_dict().items())  # the run's model is untouched


def test_clipping_applies_to_the_copy_as_to_the_run() -> None:
    model, batches, loss = setup()
    seen: list[float] = []

    # Record the gradient norm the optimizer sees: clipping happens between backward and step.
    original = torch.optim.AdamW.step

    def watching(self: torch.optim.AdamW, *args: object, **kwargs: object) -> object:
        grads = [p.grad for group in self.param_groups for p in group["params"] if p.grad is not None]
        seen.append(float(torch.linalg.vector_norm(torch.stack([torch.linalg.vector_norm(g) for g in grads]))))
        return original(self, *args, **kwargs)

    torch.optim.AdamW.step = watching  # type: ignore[method-assign]
    try:
        finetune_copy(model, batches, loss, groups=all_weights, weight_decay=0.0, max_grad_norm=1e-3, precision="fp32")
    finally:
        torch.optim.AdamW.step = original  # type: ignore[method-assign]
    assert len(seen) == 3 and all(n <= 1e-3 * 1.0001 for n in seen)


def test_after_step_sees_the_copy_before_training_and_after_every_step() -> None:
    model, batches, loss = setup()
    steps: list[int] = []
    finetune_copy(model, batches, loss, groups=all_weights, weight_decay=0.0, max_grad_norm=1.0, precision="fp32",
                  after_step=lambda step, trainee: steps.append(step))
    assert steps == [0, 1, 2, 3]


def calls_backward_or_step(source: str) -> list[str]:
    """``x.backward(...)`` or ``optimizer.step()``-like calls (``.step()`` with no argument) in ``source``."""
    found = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
            if node.func.attr == "backward" or (node.func.attr == "step" and not node.args and not node.keywords):
                found.append(f"line {node.lineno}: {ast.unparse(node)}")
    return found


def test_only_the_trainers_step_calls_backward_or_step() -> None:
    offenders = {
        str(path.relative_to(ROOT)): hits
        for package in PROJECT for path in sorted((ROOT / package).rglob("*.py"))
        if path != STEPPING and OWN_LOOP not in path.parents and (hits := calls_backward_or_step(path.read_text(encoding="utf-8")))
    }
    assert offenders == {}
    assert calls_backward_or_step(STEPPING.read_text(encoding="utf-8"))  # the checker sees the calls where they are


def test_the_checker_sees_a_hand_written_loop() -> None:
    assert len(calls_backward_or_step("loss.backward()\noptimizer.step()\nscheduler.step()")) == 3
