"""The quadratic weight penalty sum_i w_i (theta_i - c_i)^2 that L2-SP and EWC add to the loss.

Written by hand as one autograd function over ``torch._foreach_*`` kernels (the
multi-tensor ops torch's optimizers use) because the plain expression
``sum(((p - c) ** 2).sum() for p in params)`` allocates three backbone-sized temporaries
per step and records three autograd nodes per tensor: on SmolLM2-135M (2-core CPU) it
cost 0.45 s per step, a third of the step's forward and backward. On CPU, allocating a
fresh 540 MB tensor costs four times as much as the arithmetic on it, so the
differences go into a workspace that is allocated once and reused; the backward scales
it into the gradient ``2 w (theta - c)``. ``python benchmarks/weight_penalty.py``
measures both ways.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch


class _SquaredDistance(torch.autograd.Function):
    @staticmethod
    def forward(ctx: torch.autograd.function.FunctionCtx, penalty: WeightPenalty, *params: torch.Tensor) -> torch.Tensor:  # type: ignore[override]
        diffs, scaled = penalty.differences(list(params))
        ctx.penalty = penalty
        penalty.pending += any(ctx.needs_input_grad[1:])
        # sum(w d^2) as sum over tensors of <w d, d>, accumulated in float64 so that the
        # value does not depend on how the backbone is cut into tensors.
        value = torch.stack([torch.vdot(s.reshape(-1), d.reshape(-1)).double() for s, d in zip(scaled, diffs)]).sum()
        ctx.scaled = scaled
        return value.to(params[0].dtype)

    @staticmethod
    def backward(ctx: torch.autograd.function.FunctionCtx, grad_output: torch.Tensor) -> tuple[torch.Tensor | None, ...]:  # type: ignore[override]
        scaled = ctx.scaled
        del ctx.scaled
        ctx.penalty.pending -= 1
        return (None, *torch._foreach_mul(scaled, (2 * grad_output).to(scaled[0].dtype)))


class WeightPenalty:
    """``sum_i sum(w_i * (theta_i - c_i) ** 2)`` over a fixed list of tensors, as a differentiable scalar.

    Args:
        centers: Where the penalty is zero, one tensor per parameter (no gradient).
        weights: Per-element weights (EWC's Fisher), or None for plain L2 (L2-SP).
    """

    def __init__(self, centers: Sequence[torch.Tensor], weights: Sequence[torch.Tensor] | None = None) -> None:
        if not centers:
            raise ValueError("a weight penalty needs at least one tensor")
        self.centers = list(centers)
        self.weights = None if weights is None else list(weights)
        self._workspace: list[torch.Tensor] | None = None
        self._scaled_workspace: list[torch.Tensor] | None = None
        # Graphs built but not yet backpropagated; while one is, a new call must not
        # overwrite the workspace its backward will read, so it gets fresh tensors.
        self.pending = 0

    def __call__(self, params: Sequence[torch.Tensor]) -> torch.Tensor:
        """The penalty at ``params`` (same order and shapes as the centers); gradients flow to them."""
        if len(params) != len(self.centers):
            raise ValueError(f"the penalty has {len(self.centers)} centers but got {len(params)} parameters")
        return _SquaredDistance.apply(self, *params)

    def differences(self, params: list[torch.Tensor]) -> tuple[list[torch.Tensor], list[torch.Tensor]]:
        """(theta - c, w * (theta - c)) written into the reused workspaces."""
        with torch.no_grad():
            diffs = self._workspace = self._refill(None if self.pending else self._workspace, params)
            torch._foreach_sub_(diffs, self.centers)
            if self.weights is None:
                return diffs, diffs
            scaled = self._scaled_workspace = self._refill(None if self.pending else self._scaled_workspace, diffs)
            torch._foreach_mul_(scaled, self.weights)
            return diffs, scaled

    @staticmethod
    def _refill(workspace: list[torch.Tensor] | None, source: list[torch.Tensor]) -> list[torch.Tensor]:
        """``source`` copied into ``workspace``, which is (re)allocated if missing or of another layout."""
        fits = workspace is not None and all(
            w.shape == s.shape and w.dtype == s.dtype and w.device == s.device for w, s in zip(workspace, source)
        )
        if not fits:
            return [s.detach().clone() for s in source]
        torch._foreach_copy_(workspace, [s.detach() for s in source])
        return workspace

