"""A-GEM's projection and memory: a conflicting gradient no longer conflicts, any other is untouched, sizes as in the paper."""

from __future__ import annotations

from types import SimpleNamespace

import pytest
import torch

from benchmark.model.encoding import EncodedSplit, EncodedTask
from strategies.agem import AGEM, project_gradient


def tensors(seed: int, shapes: tuple[tuple[int, ...], ...] = ((3, 4), (5,), (2, 2))) -> list[torch.Tensor]:
    generator = torch.Generator().manual_seed(seed)
    return [torch.randn(*shape, generator=generator) for shape in shapes]


def dot(a: list[torch.Tensor], b: list[torch.Tensor]) -> float:
    return float(sum((x.double() * y.double()).sum() for x, y in zip(a, b)))


@pytest.mark.parametrize("seed", range(20))
def test_a_conflicting_gradient_is_projected_onto_the_half_space_and_any_other_is_untouched(seed: int) -> None:
    gradient, reference = tensors(seed), tensors(seed + 1000)
    before = [g.clone() for g in gradient]
    conflicting = dot(gradient, reference) < 0
    assert project_gradient(gradient, reference) == conflicting
    if conflicting:
        assert abs(dot(gradient, reference)) <= 1e-5 * (dot(reference, reference) * dot(before, before)) ** 0.5  # g~ . g_ref = 0
        removed = [b - g for b, g in zip(before, gradient)]  # what was taken away is parallel to g_ref
        scale = dot(removed, reference) / dot(reference, reference)
        assert all(torch.allclose(r, scale * ref, atol=1e-5) for r, ref in zip(removed, reference))
    else:
        assert all(torch.equal(g, b) for g, b in zip(gradient, before))  # bit for bit


def test_the_memory_keeps_patterns_per_task_of_each_task_and_the_reference_sample_is_capped() -> None:
    agem = AGEM(patterns_per_task=7, sample_size=10)
    agem.bind(SimpleNamespace(seed=0))
    for index in range(3):
        split = EncodedSplit([[index, k] for k in range(20)], [k % 2 for k in range(20)])
        agem.after_task(None, EncodedTask(name=f"t{index}", index=index, head=f"t{index}", label_names=["a", "b"], train=split, test=split, data_hash=""))
        assert len(agem.memory) == 7 * (index + 1)
    assert {head for _, _, head in agem.memory} == {"t0", "t1", "t2"}
    assert AGEM().patterns_per_task == 250 and AGEM().sample_size == 256  # A-GEM's MNIST settings
