"""Cost of the L2-SP/EWC weight penalty per training step: plain autograd expression vs the fused one.

Prints, for the backbone's trainable weights, the seconds of one forward + backward of
``sum_i w_i (theta_i - c_i)^2`` both ways (median of ``--repeats``), and the largest
difference between their values and gradients.

    python benchmarks/weight_penalty.py                 # SmolLM2-135M, plain L2 (L2-SP)
    python benchmarks/weight_penalty.py --weighted      # with per-element weights (EWC)
    python benchmarks/weight_penalty.py --model tiny
"""

from __future__ import annotations

import argparse
import statistics
from collections.abc import Callable
import sys
import time
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmark.model.backbones import load_backbone  # noqa: E402
from benchmark.core.environment import physical_cores  # noqa: E402
from strategies.weight_penalty import WeightPenalty  # noqa: E402


def plain(params: list[torch.Tensor], centers: list[torch.Tensor], weights: list[torch.Tensor] | None) -> torch.Tensor:
    """The expression L2-SP and EWC used before the fused penalty."""
    if weights is None:
        return sum(((p - c) ** 2).sum() for p, c in zip(params, centers))
    return sum((w * (p - c) ** 2).sum() for p, c, w in zip(params, centers, weights))


Penalty = Callable[[list[torch.Tensor], list[torch.Tensor], list[torch.Tensor] | None], torch.Tensor]


def timed(
    penalty: Penalty, params: list[torch.Tensor], centers: list[torch.Tensor], weights: list[torch.Tensor] | None, repeats: int,
) -> tuple[float, torch.Tensor, list[torch.Tensor]]:
    """Median seconds of forward + backward (the steady state of a run's steps), with the last value and gradients."""
    seconds = []
    for _ in range(repeats):
        for p in params:
            p.grad = None
        start = time.perf_counter()
        value = penalty(params, centers, weights)
        value.backward()
        seconds.append(time.perf_counter() - start)
    return statistics.median(seconds), value.detach(), [p.grad.clone() for p in params]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default="smollm2-135m")
    parser.add_argument("--weighted", action="store_true", help="per-element weights, as EWC's Fisher")
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    torch.set_num_threads(physical_cores())
    backbone = load_backbone(args.model, texts=["a warm-up sentence for the tokenizer"] * 8)
    params = [p for p in backbone.model.parameters() if p.requires_grad]
    generator = torch.Generator().manual_seed(0)
    centers = [p.detach().clone() for p in params]
    with torch.no_grad():
        for p in params:
            p.add_(1e-3 * torch.randn(p.shape, generator=generator))
    weights = [torch.rand(p.shape, generator=generator) for p in params] if args.weighted else None
    n = sum(p.numel() for p in params)
    old_s, old_v, old_g = timed(plain, params, centers, weights, args.repeats)
    fused = WeightPenalty(centers, weights)  # one per run: its workspace is allocated at the first call
    new_s, new_v, new_g = timed(lambda p, _c, _w: fused(p), params, centers, weights, args.repeats)
    grad_diff = max(float((a - b).abs().max()) for a, b in zip(old_g, new_g))
    print(f"{args.model}: {n:,} weights in {len(params)} tensors, {torch.get_num_threads()} threads, {'weighted' if weights else 'plain'} L2")
    print(f"plain autograd expression: {old_s:.3f} s per forward+backward")
    print(f"fused (strategies.weight_penalty): {new_s:.3f} s  ({old_s / new_s:.1f}x faster)")
    print(f"value: {float(old_v):.6g} vs {float(new_v):.6g} (relative difference {abs(float(old_v - new_v)) / abs(float(old_v)):.1e}); "
          f"largest gradient difference {grad_diff:.1e}")


if __name__ == "__main__":
    main()
