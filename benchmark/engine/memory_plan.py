"""A run's memory, part by part, from the model's shape alone (a model on the meta device will do).

What one process of a run holds: the suite's pretrained copy (every run starts from it;
kept on the host), the weights being trained, their gradients and Adam's two moments
(in the weights' type; 1/S of each under S-way sharding), the parameter-sized state a
strategy keeps at its peak (EWC's Fisher and anchor, L2-SP's anchor, distillation's
teacher), the training step's activations (every block's, or with activation
checkpointing each block's input plus one block recomputed), the vocabulary-sized
logits of language-model passes, and evaluation's largest need (the perplexity batch's
logits, or the key/value cache of scoring and generation). Training and evaluation
never run at once, so the plan counts the larger of the two. The counts are meant to err
high (``benchmarks/memory_plan.py --measured`` compares them with measured peaks).
"""

from __future__ import annotations

from dataclasses import dataclass

from torch import nn

from benchmark.core.config import SuiteConfig
from benchmark.engine.strategy import Strategy

GIB = 2**30
# The interpreter, torch, transformers, the tokenizer and the data: whole runs of the tiny model peak at 0.65-0.70 GiB
# on the reference VM, SmolLM2-135M's parts leave about 0.9 GiB (its tokenizer and the GGUF reader); counted in between.
RUNTIME_BYTES = 3 * GIB // 4
FLOATS_PER_TOKEN_PER_LAYER = 24  # activations kept for backward per hidden unit of a block (measured on Llama blocks, float32)
# Vocabulary-sized float32 copies per LM pass (logits, log-softmax, their gradient): distillation on SmolLM2-135M
# peaks 1.45 GiB above naive, its teacher and about 3 copies of each LM pass's logits.
LM_LOGIT_COPIES = 3
HALF = {"bf16", "fp16"}


@dataclass(frozen=True)
class ModelShape:
    """What the plan reads of a model: sizes only, never values.

    Attributes:
        parameters: Every parameter, each shared tensor once.
        layers: Transformer blocks (an encoder-decoder's encoder and decoder blocks together).
        hidden: Width of the hidden states.
        vocab: Vocabulary size (the LM head's width).
        kv_width: Keys plus values per token per block (2 x key/value heads x head width).
    """

    parameters: int
    layers: int
    hidden: int
    vocab: int
    kv_width: int

    @classmethod
    def of(cls, model: nn.Module) -> ModelShape:
        """The shape of a transformers model (real or on the meta device)."""
        config = model.config
        hidden = int(getattr(config, "hidden_size", None) or getattr(config, "d_model"))
        if getattr(config, "is_encoder_decoder", False):
            layers = int(config.num_layers + (config.num_decoder_layers or config.num_layers))
        else:
            layers = int(config.num_hidden_layers)
        heads = int(getattr(config, "num_attention_heads", None) or config.num_heads)
        kv_heads = int(getattr(config, "num_key_value_heads", None) or heads)
        head_dim = int(getattr(config, "head_dim", None) or getattr(config, "d_kv", None) or hidden // heads)
        parameters = sum(p.numel() for p in model.parameters())
        return cls(parameters, layers, hidden, int(config.vocab_size), 2 * kv_heads * head_dim)


@dataclass(frozen=True)
class PlanLine:
    """One part of a plan: its name, its bytes per process, whether it lives on the host, and how it was counted."""

    part: str
    bytes: int
    on_host: bool
    counted: str


@dataclass(frozen=True)
class MemoryPlan:
    """The parts of one run's memory per process."""

    lines: tuple[PlanLine, ...]

    def total(self, *, device: bool = False) -> int:
        """Bytes per process; ``device``: only what lives on the accelerator (a GPU run keeps host parts off it)."""
        return sum(line.bytes for line in self.lines if not (device and line.on_host))


def weight_bytes(dtype: str) -> int:
    """Bytes of one weight stored as ``dtype``."""
    return 2 if dtype in HALF else 4


def plan_run(
    shape: ModelShape, strategy: Strategy, config: SuiteConfig, *, dtype: str, max_length: int, shards: int = 1,
    trainable: int | None = None, generated_tokens: int = 0, added: int = 0,
) -> MemoryPlan:
    """The memory plan of one run of ``strategy`` under ``config``.

    Args:
        shape: The backbone's shape.
        strategy: The strategy (its ``trains_backbone`` and ``memory_profile`` count).
        config: The suite (batch sizes, evaluation, precision, checkpointing).
        dtype: The weights' type (resolved: fp32, bf16 or fp16).
        max_length: The longest token sequence of any task.
        shards: Processes the run is spread over: they share the step's batch, and the weights,
            gradients, optimizer state and strategy state are sharded over them.
        trainable: Parameters the strategy trains (default: the backbone's if it trains it, else none counted).
        generated_tokens: New tokens a generation task decodes (their keys and values join the cache).
        added: Parameters of the strategy's own modules over the run (LoRA or adapter sets), all trained.
    """
    size = weight_bytes(dtype)
    weights = shape.parameters * size
    trained = (shape.parameters if trainable is None and strategy.trains_backbone else trainable or 0) + added
    profile = strategy.memory_profile(config.train.batch_size)
    activation_bytes = 2 if dtype in HALF or config.train.precision in HALF else 4
    # Each process runs its share of the step's batch, one accumulation micro-batch at a time.
    micro_batch = -(-config.train.batch_size // (shards * config.train.grad_accum_steps))
    tokens = micro_batch * max_length
    kept = shape.layers if not config.train.gradient_checkpointing else 1 + shape.layers / FLOATS_PER_TOKEN_PER_LAYER
    one_pass = tokens * kept * shape.hidden * FLOATS_PER_TOKEN_PER_LAYER * activation_bytes
    activations = int((1 + profile.extra_batches + profile.lm_passes) * one_pass)
    logits = int(profile.lm_passes * tokens * shape.vocab * 4 * LM_LOGIT_COPIES)
    perplexity = config.eval.ppl_batch_size * (config.eval.ppl_context + 1) * shape.vocab * 4 * 2
    cache = config.eval.batch_size * (max_length + generated_tokens) * shape.layers * shape.kv_width * activation_bytes
    lines = (
        PlanLine("runtime", RUNTIME_BYTES, True, "interpreter, torch, tokenizer, data"),
        PlanLine("pretrained copy", weights, True, f"{shape.parameters:,} parameters x {size} bytes, every run starts from it"),
        PlanLine("weights", weights // shards, False, f"{shape.parameters:,} x {size} bytes" + (f" / {shards} shards" if shards > 1 else "")),
        PlanLine("strategy modules", added * size // shards, False, f"{added:,} parameters of LoRA or adapter sets x {size} bytes"),
        PlanLine("gradients", trained * size // shards, False, f"{trained:,} trained parameters x {size} bytes (the heads, small, are not counted)"),
        PlanLine("optimizer state", 2 * trained * size // shards, False, "Adam's two moments in the weights' type"),
        PlanLine("strategy state", int(profile.copies * weights) // shards, False, f"{profile.copies:g} parameter-sized copies at the peak"),
        PlanLine("training step", activations + logits, False,
                 f"micro-batch {micro_batch} x {max_length} tokens, {kept:.2f} blocks kept" + (", LM logits" if logits else "")),
        PlanLine("evaluation", max(perplexity, cache), False, "the larger of the perplexity logits and the key/value cache"),
    )
    return MemoryPlan(_peak(lines))


def _peak(lines: tuple[PlanLine, ...]) -> tuple[PlanLine, ...]:
    """Training and evaluation never overlap: the smaller of the two is shown and counted as zero."""
    step, evaluation = lines[-2], lines[-1]
    smaller = evaluation if evaluation.bytes <= step.bytes else step
    shown = PlanLine(smaller.part, 0, smaller.on_host, f"{smaller.counted} ({smaller.bytes / GIB:.2f} GiB, not at the same time)")
    return tuple(shown if line is smaller else line for line in lines)
