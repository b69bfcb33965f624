"""Refuse a suite that cannot fit in memory, before training, instead of being OOM-killed.

The estimate is deliberately simple and errs high: float32 weights of the pristine
backbone and of the model being trained, gradients and two Adam moments when the
backbone trains, the extra parameter-sized copies a strategy keeps (EWC's Fisher and
anchor, L2-SP's anchor, distillation's teacher), and the activations of one training
batch and of the perplexity batch's logits.
"""

from __future__ import annotations

import os
from pathlib import Path

import torch

from benchmark.backbones import Backbone
from benchmark.config import SuiteConfig
from benchmark.errors import UserError
from benchmark.task_model import hidden_size
from strategies.base import Strategy

GIB = 2**30
FLOATS_PER_TOKEN_PER_LAYER = 24  # activations kept for backward, per hidden unit (fp32)
USABLE_FRACTION = 0.9


def available_memory_bytes() -> int | None:
    """Memory this process may still use: MemAvailable, capped by a cgroup limit if one is set."""
    candidates = []
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemAvailable:"):
                candidates.append(int(line.split()[1]) * 1024)
    except OSError:
        pass
    for limit_file, usage_file in (("/sys/fs/cgroup/memory.max", "/sys/fs/cgroup/memory.current"),
                                   ("/sys/fs/cgroup/memory/memory.limit_in_bytes", "/sys/fs/cgroup/memory/memory.usage_in_bytes")):
        try:
            limit = Path(limit_file).read_text().strip()
            if limit.isdigit() and int(limit) < 2**60:
                candidates.append(int(limit) - int(Path(usage_file).read_text().strip()))
        except (OSError, ValueError):
            continue
    return min(candidates) if candidates else None


def estimate_run_bytes(backbone: Backbone, strategy: Strategy, config: SuiteConfig) -> int:
    """Upper estimate of the peak memory of one run of ``strategy``."""
    model = backbone.model
    weights = sum(p.numel() for p in model.parameters()) * 4
    total = 2 * weights  # the pristine backbone the suite keeps, and the copy being trained
    if strategy.trains_backbone:
        total += 3 * weights  # gradients and Adam's two moments
    total += int(strategy.memory_copies() * weights)
    layers = getattr(model.config, "num_hidden_layers", 12)
    width = hidden_size(model)
    tokens = config.train.batch_size * 512  # max_length is per task; 512 bounds what the scenarios use
    total += tokens * layers * width * FLOATS_PER_TOKEN_PER_LAYER * 4
    vocab = getattr(model.config, "vocab_size", 0)
    total += config.eval.ppl_batch_size * (config.eval.ppl_context + 1) * vocab * 4 * 2
    return int(total)


def check_memory(backbone: Backbone, strategies: list[Strategy], config: SuiteConfig, available: int | None = None) -> None:
    """Raises a UserError if the largest run of the suite would not fit in the memory available."""
    if config.device.startswith("cuda") and torch.cuda.is_available():
        available = available if available is not None else torch.cuda.mem_get_info()[0]
    else:
        available = available if available is not None else available_memory_bytes()
    if not available or os.environ.get("FORGETBENCH_SKIP_MEMORY_CHECK") == "1":
        return
    need, name = max((estimate_run_bytes(backbone, s, config), n) for s, n in zip(strategies, config.strategies))
    if need > USABLE_FRACTION * available:
        raise UserError(
            f"strategy {name!r} on model {backbone.name!r} needs about {need / GIB:.1f} GiB but only {available / GIB:.1f} GiB "
            "of memory are available; use a smaller --batch-size or model, fewer memory-hungry strategies, or a bigger machine "
            "(FORGETBENCH_SKIP_MEMORY_CHECK=1 skips this check)"
        )
