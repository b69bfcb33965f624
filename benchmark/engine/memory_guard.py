"""Refuse a suite that cannot fit in memory, before training, instead of being OOM-killed.

The estimate is simple and meant to err high (``benchmarks/memory_estimate.py``
compares it with measured peaks): the runtime, the weights (in their ``--dtype``) of the
pristine backbone and of the model being trained, gradients and two Adam moments when the
backbone trains, the parameter-sized copies a strategy holds at its peak (EWC's Fisher,
anchor and per-example gradients, L2-SP's anchor, distillation's teacher), the
activations of the training batch (and of a replayed batch or an LM pass), the logits
of LM passes, and the perplexity batch's logits. Activations are counted in float32
whatever the weights' type, and with activation checkpointing as each block's input plus
one block's full set.
"""

from __future__ import annotations

import os
from pathlib import Path

import torch

from benchmark.model.backbones import Backbone
from benchmark.core.config import SuiteConfig
from benchmark.core.errors import UserError
from benchmark.model.task_model import hidden_size
from benchmark.engine.strategy import Strategy

GIB = 2**30
FLOATS_PER_TOKEN_PER_LAYER = 24  # activations kept for backward, per hidden unit (fp32)
USABLE_FRACTION = 0.9
RUNTIME_BYTES = GIB  # the interpreter, torch, the tokenizer and the data (about 0.8 GiB measured with SmolLM2)
MAX_AUTO_JOBS = 4096  # the cap of jobs in the config; without a memory reading, the cores decide
LM_LOGIT_COPIES = 6  # logits, their float copy, log-softmax, and the gradients of each, per LM pass


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


def estimate_run_bytes(backbone: Backbone, strategy: Strategy, config: SuiteConfig, max_length: int = 512) -> int:
    """Upper estimate of the peak memory of one run of ``strategy``.

    Args:
        backbone: The loaded backbone.
        strategy: The strategy (its ``trains_backbone`` and ``memory_profile`` count).
        config: The suite (batch sizes, perplexity context).
        max_length: The longest token sequence of any task of the scenario.
    """
    model = backbone.model
    weights = sum(p.numel() * p.element_size() for p in model.parameters())  # --dtype: 2 bytes each in bf16/fp16
    profile = strategy.memory_profile(config.train.batch_size)
    total = RUNTIME_BYTES + 2 * weights  # the pristine backbone the suite keeps, and the copy being trained
    if strategy.trains_backbone:
        total += 3 * weights  # gradients and Adam's two moments
    total += int(profile.copies * weights)
    layers = getattr(model.config, "num_hidden_layers", 12)
    tokens = config.train.batch_size * max_length
    kept_layers = layers if not config.train.gradient_checkpointing else 1 + layers / FLOATS_PER_TOKEN_PER_LAYER
    # With checkpointing each block keeps only its input (one float per hidden unit) and one block is recomputed at a time.
    activations = int(tokens * kept_layers * hidden_size(model) * FLOATS_PER_TOKEN_PER_LAYER * 4)
    vocab = getattr(model.config, "vocab_size", 0)
    # Every LM pass reruns the body (its activations) and keeps vocabulary-sized logits.
    total += int((1 + profile.extra_batches + profile.lm_passes) * activations)
    total += int(profile.lm_passes * tokens * vocab * 4 * LM_LOGIT_COPIES)
    total += config.eval.ppl_batch_size * (config.eval.ppl_context + 1) * vocab * 4 * 2
    return int(total)


def runs_that_fit(backbone: Backbone, strategies: list[Strategy], config: SuiteConfig, max_length: int = 512) -> int:
    """How many of the suite's largest run fit in this machine's memory at once (at least 1; ``jobs: auto``)."""
    available = available_memory_bytes()
    if not available or os.environ.get("FORGETBENCH_SKIP_MEMORY_CHECK") == "1":
        return MAX_AUTO_JOBS
    one = max(estimate_run_bytes(backbone, s, config, max_length) for s in strategies)
    return max(1, min(MAX_AUTO_JOBS, int(USABLE_FRACTION * available // one)))


def check_memory(backbone: Backbone, strategies: list[Strategy], config: SuiteConfig, max_length: int = 512,
                 available: int | None = None, concurrent: int = 1) -> None:
    """Raises a UserError if ``concurrent`` of the suite's largest run would not fit in the memory available.

    ``concurrent`` is how many runs share this machine at once (``--jobs``, or a local
    Ray instance's parallel tasks); each runs in its own process with its own copies.
    """
    if config.device.startswith("cuda") and torch.cuda.is_available():
        available = available if available is not None else torch.cuda.mem_get_info()[0]
    else:
        available = available if available is not None else available_memory_bytes()
    if not available or os.environ.get("FORGETBENCH_SKIP_MEMORY_CHECK") == "1":
        return
    one, name = max((estimate_run_bytes(backbone, s, config, max_length), n) for s, n in zip(strategies, config.strategies))
    need = one * concurrent
    if need > USABLE_FRACTION * available:
        at_once, verb, fewer = (f"{concurrent} runs at once of ", "need", "fewer --jobs, ") if concurrent > 1 else ("", "needs", "")
        raise UserError(
            f"{at_once}strategy {name!r} on model {backbone.name!r} {verb} about {need / GIB:.1f} GiB but only {available / GIB:.1f} GiB "
            f"of memory are available; use {fewer}a smaller --batch-size or model, fewer memory-hungry strategies, or a bigger machine "
            "(FORGETBENCH_SKIP_MEMORY_CHECK=1 skips this check)"
        )
