"""The two evaluations the built-in measures make: accuracy on a task and perplexity on the general corpus.

With several processes (``accelerate launch``) every process scores a share of the
batches and the counts are summed over processes, so each process gets the same
accuracy and perplexity as a single process would (up to float summation order).
"""

from __future__ import annotations

import contextlib
import math
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import TypeVar

import torch

from benchmark.core.hashing import derived_seed
from benchmark.model.batching import eval_batch_indices, pad_batch
from benchmark.model.encoding import EncodedCorpus, EncodedTask
from benchmark.engine.parallel import Parallel
from benchmark.engine.sharding import is_sharded
from benchmark.model.task_model import TaskModel, eval_mode



T = TypeVar("T")

HALF_TYPES = {"bf16": torch.bfloat16, "fp16": torch.float16}


def autocast(precision: str, device: torch.device | str) -> contextlib.AbstractContextManager[object]:
    """bf16/fp16 autocast when asked for, else a no-op context (the same context accelerate applies)."""
    if precision in HALF_TYPES:
        return torch.autocast(device_type=torch.device(device).type, dtype=HALF_TYPES[precision])
    return contextlib.nullcontext()


def summed_over_processes(parallel: Parallel | None, *values: float) -> list[float]:
    """``values`` summed over the run's processes (unchanged with one process)."""
    if parallel is None or parallel.processes == 1:
        return list(values)
    return parallel.sum(torch.tensor(values, dtype=torch.float64, device=parallel.device)).tolist()


def shares(parallel: Parallel | None, items: Sequence[T], model: torch.nn.Module) -> list[tuple[T, bool]]:
    """This process's share of ``items`` to run ``model`` on, each with whether its result counts.

    A sharded model needs every process to make the same number of forward passes, so
    its shares are filled up with uncounted repeats (:meth:`Parallel.even_share`).
    """
    if parallel is None:
        return [(item, True) for item in items]
    return parallel.even_share(items, even=is_sharded(model))


def model_device(model: torch.nn.Module) -> torch.device:
    """The device of the model's first parameter."""
    return next(model.parameters()).device


def test_batches(task: EncodedTask, *, pad_id: int, batch_size: int, parallel: Parallel | None = None) -> Iterator[dict[str, torch.Tensor]]:
    """This process's share of the length-sorted evaluation batches of ``task``'s test split (on the CPU)."""
    batches = eval_batch_indices(task.test.lengths, batch_size)
    for indices in parallel.shard(batches) if parallel is not None else batches:
        yield task.test.batch(indices, pad_id)


def gathered_choices(parallel: Parallel | None, n: int, chosen: dict[int, int]) -> list[int]:
    """Every example's chosen class (-1: none) from each process's share of them, on every process."""
    # Each example is chosen by exactly one process: summing vectors that hold choice + 1 at a
    # process's own examples and 0 elsewhere assembles the whole split (-1 becomes 0 and back).
    full = torch.zeros(n, dtype=torch.float64)
    for index, choice in chosen.items():
        full[index] = choice + 1
    if parallel is not None and parallel.processes > 1:
        full = parallel.sum(full.to(parallel.device)).cpu()
    return (full.round().long() - 1).tolist()


def task_choices(
    model: TaskModel, task: EncodedTask, *, pad_id: int, batch_size: int, precision: str = "fp32", parallel: Parallel | None = None,
) -> list[int]:
    """The class ``model``'s head for ``task`` chooses (argmax) for every test example, in test-split order."""
    device = model_device(model)
    batches = eval_batch_indices(task.test.lengths, batch_size)
    chosen: dict[int, int] = {}
    with eval_mode(model), torch.inference_mode(), autocast(precision, device):
        for indices, counted in shares(parallel, batches, model):
            batch = task.test.batch(indices, pad_id)
            logits = model(batch["input_ids"].to(device), batch["attention_mask"].to(device), task.head)
            if counted:
                chosen.update(zip(indices, logits.argmax(dim=-1).cpu().tolist()))
    return gathered_choices(parallel, len(task.test), chosen)


def task_accuracy(
    model: TaskModel, task: EncodedTask, *, pad_id: int, batch_size: int, precision: str = "fp32", parallel: Parallel | None = None,
) -> float:
    """Accuracy of ``model`` on the test split of ``task`` (argmax over the task's head)."""
    chosen = task_choices(model, task, pad_id=pad_id, batch_size=batch_size, precision=precision, parallel=parallel)
    return sum(c == y for c, y in zip(chosen, task.test.labels)) / len(task.test)


@dataclass
class LanguageModelScore:
    """Perplexity and bits per byte of the general corpus (bits per byte is None for encoders)."""

    perplexity: float
    bits_per_byte: float | None


def corpus_perplexity(
    model: TaskModel, corpus: EncodedCorpus, *, pad_id: int, batch_size: int, precision: str = "fp32",
    mask_token_id: int | None = None, special_ids: list[int] | None = None, parallel: Parallel | None = None,
) -> LanguageModelScore:
    """Perplexity of the general corpus; for encoders, masked-LM perplexity over a fixed 15% of tokens.

    Each batch draws its masked positions from its own seed, so the masks do not depend
    on how batches are shared out between processes.
    """
    device = model_device(model)
    total_nll = 0.0
    total_tokens = 0
    batches = list(enumerate(eval_batch_indices([len(w) for w in corpus.windows], batch_size)))
    with eval_mode(model), torch.inference_mode(), autocast(precision, device):
        for (number, indices), counted in shares(parallel, batches, model):
            input_ids, attention_mask = pad_batch([corpus.windows[i] for i in indices], pad_id)
            nll, count = model.lm_nll(
                input_ids.to(device), attention_mask.to(device), generator=torch.Generator().manual_seed(derived_seed("mlm eval", number)),
                mask_token_id=mask_token_id, special_ids=special_ids,
            )
            if counted:
                total_nll += float(nll)
                total_tokens += count
    total_nll, total_tokens = summed_over_processes(parallel, total_nll, float(total_tokens))
    perplexity = math.exp(total_nll / max(total_tokens, 1))
    bits = total_nll / (math.log(2) * corpus.n_bytes) if model.kind == "causal" else None
    return LanguageModelScore(perplexity=perplexity, bits_per_byte=bits)
