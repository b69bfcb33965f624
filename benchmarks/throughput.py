"""Training throughput and model FLOP utilisation of both formulations, fp32 and bf16, on any device.

Trains the model with forgetbench's own trainer on synthetic batches of ``--batch-size``
sequences of exactly ``--length`` tokens (heads: a class label per sequence; text: the
last ``--answer-tokens`` tokens are the answer, the rest the prompt), and prints tokens
per second and the model FLOP utilisation (MFU) for each formulation and precision.

Model FLOPs per trained token follow the usual estimate (Kaplan et al. 2020; PaLM,
Chowdhery et al. 2022, appendix B): 6 x the non-embedding parameters of the body, plus
6 x n_layers x length x hidden for attention, plus, in the text formulation, 6 x
vocab x hidden for every position that goes through the LM head (only those that
predict an answer token). The peak is measured by the script itself: the median rate
of a large square matmul in the same dtype on the same device (on CPU: fp32, as
stated). The GPU target for SmolLM2-135M in bf16 at batch 32 x 256 is 40% MFU.

    .venv/bin/python benchmarks/throughput.py                       # CPU: batch 8 x 128, 4 steps
    python benchmarks/throughput.py --device cuda --batch-size 32 --length 256 --steps 20
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import torch  # noqa: E402

from benchmark.core.config import TrainConfig  # noqa: E402
from benchmark.core.environment import cpu_model  # noqa: E402
from benchmark.engine.measuring import new_model  # noqa: E402
from benchmark.engine.strategy import Strategy  # noqa: E402
from benchmark.engine.trainer import train_tasks  # noqa: E402
from benchmark.model.backbones import load_backbone  # noqa: E402
from benchmark.model.encoding import EncodedSplit, EncodedTask  # noqa: E402
from benchmark.model.task_model import hidden_size  # noqa: E402

DTYPES = {"fp32": torch.float32, "bf16": torch.bfloat16}


def matmul_peak(device: torch.device, dtype: torch.dtype, size: int) -> float:
    """Median FLOP/s of a size x size matmul (2 size^3 FLOPs) over 10 timed runs after 3 warm-ups."""
    a, b = (torch.randn(size, size, device=device, dtype=dtype) for _ in range(2))
    rates = []
    for k in range(13):
        if device.type == "cuda":
            torch.cuda.synchronize()
        tick = time.perf_counter()
        a @ b
        if device.type == "cuda":
            torch.cuda.synchronize()
        if k >= 3:
            rates.append(2 * size**3 / (time.perf_counter() - tick))
    return statistics.median(rates)


def synthetic_task(formulation: str, vocab: int, args: argparse.Namespace) -> EncodedTask:
    """``batch_size * (steps + 1)`` random sequences of ``length`` tokens (the first batch is a warm-up)."""
    n = args.batch_size * (args.steps + 1)
    generator = torch.Generator().manual_seed(0)
    ids = torch.randint(5, vocab, (n, args.length), generator=generator).tolist()
    labels = [k % 2 for k in range(n)]
    if formulation == "heads":
        split = EncodedSplit(ids, labels)
    else:
        answers = [ids[0][-args.answer_tokens:], ids[1][-args.answer_tokens:]]
        split = EncodedSplit([row[: args.length - args.answer_tokens] for row in ids], labels, answers)
    return EncodedTask(name="synthetic", index=0, head="synthetic", label_names=["a", "b"], train=split, test=split, data_hash="-")


def flops_per_token(model: torch.nn.Module, formulation: str, args: argparse.Namespace) -> float:
    body = model.body()
    width = hidden_size(model.backbone)
    embedding = model.backbone.get_input_embeddings().weight.numel()
    non_embedding = sum(p.numel() for p in body.parameters()) - embedding
    layers = model.backbone.config.num_hidden_layers
    per_token = 6 * non_embedding + 6 * layers * args.length * width
    if formulation == "text":  # LM-head positions per token: the answer tokens' share of the sequence
        per_token += 6 * embedding * args.answer_tokens / args.length
    return per_token


def measure(backbone: object, formulation: str, precision: str, device: torch.device, args: argparse.Namespace) -> tuple[float, float]:
    """(tokens per second, model FLOP/s) of training one formulation at one precision."""
    task = synthetic_task(formulation, len(backbone.tokenizer), args)
    model = new_model(backbone, [task], 0, device, formulation)
    config = TrainConfig(batch_size=args.batch_size, lr=1e-5, precision=precision, warmup_ratio=0.0, bucket_batches=1)
    warm = EncodedTask(**{**task.__dict__, "train": EncodedSplit(task.train.input_ids[: args.batch_size], task.train.labels[: args.batch_size], task.train.answers)})
    train_tasks(model, [warm], Strategy(), config, pad_id=backbone.pad_id, generator=torch.Generator().manual_seed(0))
    if device.type == "cuda":
        torch.cuda.synchronize()
    tick = time.perf_counter()
    stats = train_tasks(model, [task], Strategy(), config, pad_id=backbone.pad_id, generator=torch.Generator().manual_seed(1))
    if device.type == "cuda":
        torch.cuda.synchronize()
    seconds = time.perf_counter() - tick
    tokens = stats.steps * args.batch_size * args.length
    return tokens / seconds, tokens * flops_per_token(model, formulation, args) / seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default="smollm2-135m")
    parser.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    parser.add_argument("--batch-size", type=int, default=8)
    parser.add_argument("--length", type=int, default=128)
    parser.add_argument("--answer-tokens", type=int, default=2)
    parser.add_argument("--steps", type=int, default=4)
    parser.add_argument("--precisions", default="fp32,bf16")
    args = parser.parse_args()
    device = torch.device(args.device)
    backbone = load_backbone(args.model, texts=["a b c"])
    where = torch.cuda.get_device_name(device) if device.type == "cuda" else f"{cpu_model()}, {torch.get_num_threads()} thread(s)"
    print(f"training throughput: {args.model} on {where}, batch {args.batch_size} x {args.length} tokens, {args.steps} timed steps")
    peak_dtype = "fp32" if device.type == "cpu" else None
    for precision in args.precisions.split(","):
        peak = matmul_peak(device, DTYPES[peak_dtype or precision], 2048 if device.type == "cpu" else 8192)
        for formulation in ("heads", "text"):
            tokens, flops = measure(backbone, formulation, precision, device, args)
            print(f"{formulation:>5} {precision}: {tokens:10,.0f} tokens/s, {flops / 1e12:7.3f} TFLOP/s model, "
                  f"MFU {100 * flops / peak:5.1f}% of the measured {peak_dtype or precision} matmul peak {peak / 1e12:.3f} TFLOP/s")


if __name__ == "__main__":
    main()
