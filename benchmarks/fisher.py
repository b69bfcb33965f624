"""EWC's two Fisher estimators on the same examples: cost, scale and agreement.

Prints the seconds each estimator takes, the ratio of their total mass (empirical /
batch, expected near the batch size), and the Spearman rank correlation of their
per-parameter values (on a fixed random sample of 2M entries).

    python benchmarks/fisher.py                    # default model, 32 movie-review examples
    python benchmarks/fisher.py --model tiny --examples 64
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmark.model.backbones import load_backbone  # noqa: E402
from benchmark.core.environment import physical_cores  # noqa: E402
from benchmark.model.task_model import TaskModel  # noqa: E402
from benchmarks.overhead import load_task, review_snippets  # noqa: E402
from strategies.fisher import batch_fisher, empirical_fisher  # noqa: E402


def ranks(values: torch.Tensor) -> torch.Tensor:
    """Ranks with ties sharing their average rank (many Fisher entries are exactly zero)."""
    order = values.argsort()
    _, inverse, counts = torch.unique_consecutive(values[order], return_inverse=True, return_counts=True)
    ends = counts.cumsum(0)
    average = (ends - counts + ends - 1).double() / 2
    out = torch.empty(len(values), dtype=torch.double)
    out[order] = average[inverse]
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default="smollm2-135m")
    parser.add_argument("--examples", type=int, default=32)
    parser.add_argument("--batch-size", type=int, default=4, help="vmap chunk of the empirical one and batch of the batch one")
    args = parser.parse_args()
    torch.set_num_threads(physical_cores())
    frame = review_snippets()
    backbone = load_backbone(args.model, texts=frame["text"].tolist())
    task = load_task(backbone, frame, args.examples, 1, max_length=64)
    model = TaskModel(backbone.model, kind=backbone.kind, head_sizes={"movie": 2}, seed=0)
    examples = list(zip(task.train.input_ids, task.train.labels))
    timings, results = {}, {}
    for name, estimate, size in (("empirical", empirical_fisher, {"chunk_size": args.batch_size}), ("batch", batch_fisher, {"batch_size": args.batch_size})):
        estimate(model, examples[: args.batch_size], objective="classification", head="movie", pad_id=backbone.pad_id, **size)  # warm-up
        start = time.perf_counter()
        results[name] = estimate(model, examples, objective="classification", head="movie", pad_id=backbone.pad_id, **size)
        timings[name] = time.perf_counter() - start
    flat = {k: torch.cat([v.flatten() for v in r.values()]) for k, r in results.items()}
    sample = torch.randperm(len(flat["empirical"]), generator=torch.Generator().manual_seed(0))[:2_000_000]
    a, b = ranks(flat["empirical"][sample].double()), ranks(flat["batch"][sample].double())
    spearman = float(torch.corrcoef(torch.stack([a, b]))[0, 1])
    n_params = len(flat["empirical"])
    print(f"model {args.model} ({n_params:,} trainable backbone parameters), {args.examples} examples, batch/chunk {args.batch_size}, {torch.get_num_threads()} threads")
    print(f"empirical (per-example, vmap): {timings['empirical']:.1f} s; batch (squared mini-batch gradient): {timings['batch']:.1f} s; "
          f"cost ratio {timings['empirical'] / timings['batch']:.2f}")
    print(f"total mass empirical / batch: {float(flat['empirical'].sum() / flat['batch'].sum()):.2f} (batch size {args.batch_size})")
    print(f"Spearman rank correlation of per-parameter values: {spearman:.4f}")


if __name__ == "__main__":
    main()
