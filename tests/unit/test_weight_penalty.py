"""The fused L2-SP/EWC weight penalty equals the plain autograd expression, in value and gradient."""

from __future__ import annotations

import pytest
import torch

from strategies.weight_penalty import WeightPenalty

SHAPES = [(7, 5), (3,), (2, 3, 4)]


def tensors(seed: int, scale: float = 1.0) -> list[torch.Tensor]:
    generator = torch.Generator().manual_seed(seed)
    return [scale * torch.randn(shape, generator=generator, dtype=torch.float64) for shape in SHAPES]


def plain(params: list[torch.Tensor], centers: list[torch.Tensor], weights: list[torch.Tensor] | None) -> torch.Tensor:
    if weights is None:
        return sum(((p - c) ** 2).sum() for p, c in zip(params, centers))
    return sum((w * (p - c) ** 2).sum() for p, c, w in zip(params, centers, weights))


def gradients(value: torch.Tensor, params: list[torch.Tensor]) -> list[torch.Tensor]:
    return list(torch.autograd.grad(value, params))


@pytest.mark.parametrize("weighted", [False, True])
def test_value_and_gradient_match_the_plain_expression(weighted: bool) -> None:
    centers = tensors(1)
    weights = [w.abs() for w in tensors(2)] if weighted else None
    penalty = WeightPenalty(centers, weights)
    for step in range(3):  # the reused workspace must not carry anything over from the last call
        params = [t.requires_grad_() for t in tensors(10 + step)]
        fused, expected = penalty(params), plain(params, centers, weights)
        torch.testing.assert_close(fused, expected)
        for got, want in zip(gradients(fused, params), gradients(plain(params, centers, weights), params)):
            torch.testing.assert_close(got, want)


def test_zero_at_the_centers_with_zero_gradient() -> None:
    centers = tensors(3)
    params = [c.clone().requires_grad_() for c in centers]
    value = WeightPenalty(centers)(params)
    assert float(value.detach()) == 0.0
    assert all(float(g.abs().max()) == 0.0 for g in gradients(value, params))


def test_two_graphs_alive_at_once_keep_their_own_differences() -> None:
    """A second call before the first backward must not overwrite the first call's workspace."""
    centers = tensors(4)
    penalty = WeightPenalty(centers)
    first = [t.requires_grad_() for t in tensors(5)]
    second = [t.requires_grad_() for t in tensors(6, scale=3.0)]
    value_first, value_second = penalty(first), penalty(second)
    for params, value in ((first, value_first), (second, value_second)):
        for got, (p, c) in zip(gradients(value, params), zip(params, centers)):
            torch.testing.assert_close(got, 2 * (p.detach() - c))
    assert penalty.pending == 0


def test_gradient_reaches_only_parameters_that_require_it() -> None:
    centers = tensors(7)
    params = tensors(8)
    params[0].requires_grad_()
    value = WeightPenalty(centers)(params)
    value.backward()
    torch.testing.assert_close(params[0].grad, 2 * (params[0].detach() - centers[0]))
    assert params[1].grad is None and params[2].grad is None


def test_a_parameter_list_of_another_length_is_refused() -> None:
    with pytest.raises(ValueError, match="3 centers but got 2"):
        WeightPenalty(tensors(9))(tensors(9)[:2])
