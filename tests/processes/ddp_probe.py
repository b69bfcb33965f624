"""Run by tests/processes/test_scale_out.py, once alone and once under ``accelerate launch`` (2 CPU processes).

Computes, through the harness's own code paths, the gradient of one optimizer step's
batch (DDP over :class:`TrainingStep`, :func:`micro_batches` weights), an EWC Fisher
(:func:`shared_fisher`) and a sharded task accuracy; the main process saves them to
the file named by the first argument. Not a test module itself (no ``test_`` prefix).
"""

from __future__ import annotations

import contextlib
import sys

import torch

from benchmark.model.batching import micro_batches
from benchmark.model.encoding import EncodedSplit, EncodedTask
from benchmark.engine.evaluation import task_accuracy
from benchmark.engine.parallel import make_parallel
from benchmark.model.task_model import TaskModel
from benchmark.model.tiny_backbone import tiny
from benchmark.engine.trainer import TrainingStep
from strategies.ewc import EWC
from strategies.fisher import shared_fisher

WORDS = "good great fine bad awful poor film movie plot actor".split()


def main(path: str, accumulation: int) -> None:
    parallel = make_parallel("cpu", "fp32")
    torch.manual_seed(0)
    backbone = tiny(texts=[" ".join(WORDS)])
    ids = [backbone.tokenizer(" ".join(WORDS[k % 7 : k % 7 + 2 + k % 4]))["input_ids"] for k in range(11)]
    split = EncodedSplit(ids, [k % 2 for k in range(11)])
    task = EncodedTask(name="t", index=0, head="t", label_names=["a", "b"], train=split, test=split, data_hash="h")
    model = TaskModel(backbone.model, kind=backbone.kind, head_sizes={"t": 2}, seed=0)
    step = parallel.accelerator.prepare_model(TrainingStep(model, EWC()), device_placement=False)
    batch_indices = list(range(11))  # odd: the processes get 6 and 5 examples
    shares = micro_batches(batch_indices, processes=parallel.processes, rank=parallel.index, accumulation=accumulation)
    for k, (micro, weight) in enumerate(shares, 1):
        sync = contextlib.nullcontext() if k == len(shares) else parallel.accelerator.no_sync(step)
        with sync:
            batch = {**task.train.batch(micro, backbone.pad_id), "head": "t", "step": 0}
            parallel.accelerator.backward(step(batch, "t") * weight)
    grads = {n: p.grad.clone() for n, p in model.named_parameters() if p.grad is not None}
    fisher = shared_fisher(model, [(ids[k], k % 2) for k in range(11)], estimator="empirical", objective="classification",
                           head="t", pad_id=backbone.pad_id, batch_size=2, parallel=parallel)
    accuracy = task_accuracy(model, task, pad_id=backbone.pad_id, batch_size=3, parallel=parallel)
    if parallel.is_main:
        torch.save({"grads": grads, "fisher": fisher, "accuracy": accuracy, "processes": parallel.processes}, path)


if __name__ == "__main__":
    main(sys.argv[1], int(sys.argv[2]))
