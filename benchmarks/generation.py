"""Speed of the generate formulation's batched generation against plain ``model.generate``, batched and one prompt at a time.

On the generative scenario (order 1, seed 0) with the chosen model, takes the first
``--prompts`` test prompts of ``--task`` and generates ``--max-new-tokens`` tokens
greedily for each, three ways, each timed ``--repeats`` times (median):

- ``harness``: :func:`benchmark.engine.free_generation.generate_outputs`, what runs use
  (left-padded batches of the evaluation batch size, the KV cache, the task's stop
  strings switched off so that every way generates the same tokens);
- ``batched generate``: ``model.generate`` on the same left-padded batches;
- ``one at a time``: ``model.generate`` on each prompt alone (no padding).

It prints new tokens per second of each, the ratios (targets: harness at least 0.95x
the batched ``generate`` and at least 3x one at a time), whether the three produced the
same outputs, and the resident memory after each batch of the harness (flat when the
KV cache is freed between batches) with the peak. A last line times the harness with
the task's stop strings on (what a run does), which stops sequences early.

    .venv/bin/python benchmarks/generation.py
    .venv/bin/python benchmarks/generation.py --model tiny --prompts 16
"""

from __future__ import annotations

import argparse
import dataclasses
import resource
import statistics
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import torch  # noqa: E402
from transformers import GenerationConfig  # noqa: E402

from benchmark.core.environment import cpu_model, git_hash, physical_cores  # noqa: E402
from benchmark.engine.free_generation import generate_outputs  # noqa: E402
from benchmark.engine.measuring import new_model  # noqa: E402
from benchmark.engine.parallel import make_parallel  # noqa: E402
from benchmark.engine.text_generation import left_padded  # noqa: E402
from benchmark.model.batching import eval_batch_indices  # noqa: E402
from benchmark.model.task_model import TaskModel, eval_mode  # noqa: E402
from benchmark.suite.config import build_config  # noqa: E402
from benchmark.suite.setup import setup_suite  # noqa: E402
from benchmarks.text_scoring import timed  # noqa: E402
from scenarios.catalog import load_scenario  # noqa: E402


def resident_mb() -> float:
    """The process's resident memory now (Linux /proc), in MB."""
    pages = int(Path("/proc/self/statm").read_text().split()[1])
    return pages * resource.getpagesize() / 2**20


def plain_generate(model: TaskModel, prompts: list[list[int]], settings: GenerationConfig, pad: int) -> list[list[int]]:
    """``model.generate`` on one left-padded batch: each prompt's new tokens (padding after an early end dropped)."""
    ids, mask = left_padded(prompts, pad)
    out = model.backbone.generate(input_ids=ids, attention_mask=mask, generation_config=settings)[:, ids.size(1):]
    return [[t for t in row.tolist() if t != pad] for row in out]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default="smollm2-135m")
    parser.add_argument("--task", default="news_headline")
    parser.add_argument("--prompts", type=int, default=32)
    parser.add_argument("--max-new-tokens", type=int, default=24)
    parser.add_argument("--batch-size", type=int, help="prompts per batch (default: the scenario's evaluation batch size)")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--threads", type=int, default=physical_cores())
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    config = build_config(overrides=[{"scenario": "generative", "model": args.model, "seeds": [0], "progress": False}])
    setup = setup_suite(config, threads=args.threads, parallel=make_parallel("cpu", "fp32"), launcher="sequential", spec=load_scenario("generative"))
    tasks = setup.tasks(config, 1, 0)
    task = next(t for t in tasks if t.name == args.task)
    assert task.generation is not None
    model = new_model(setup.backbone, tasks, 0, torch.device("cpu"), "generate")
    tokenizer, pad = setup.backbone.tokenizer, int(setup.backbone.tokenizer.pad_token_id)
    prompts = task.test.input_ids[: args.prompts]
    batch_size = args.batch_size or config.eval.batch_size
    batches = eval_batch_indices([len(p) for p in prompts], batch_size)
    no_stop = dataclasses.replace(task.generation, stop=(), max_new_tokens=args.max_new_tokens)
    settings = GenerationConfig(max_new_tokens=args.max_new_tokens, do_sample=False, pad_token_id=pad, eos_token_id=int(tokenizer.eos_token_id))
    memory: list[float] = []

    def harness(generation: object = no_stop) -> list[str]:
        out: dict[int, str] = {}
        for indices in batches:
            texts = generate_outputs(model, [prompts[i] for i in indices], tokenizer, generation, head=task.head, decode="greedy", seed=(0,))
            out.update(zip(indices, texts))
            memory.append(resident_mb())
        return [out[i] for i in range(len(prompts))]

    def batched() -> list[list[int]]:
        out: dict[int, list[int]] = {}
        for indices in batches:
            out.update(zip(indices, plain_generate(model, [prompts[i] for i in indices], settings, pad)))
        return [out[i] for i in range(len(prompts))]

    def one_at_a_time() -> list[list[int]]:
        return [plain_generate(model, [p], settings, pad)[0] for p in prompts]

    with eval_mode(model), torch.inference_mode():
        model.router.activate(task.head)
        batched()  # warm-up: the first call pays for allocations
        harness_s, harness_texts = timed(harness, args.repeats)
        batched_s, batched_ids = timed(batched, args.repeats)
        single_s, single_ids = timed(one_at_a_time, max(1, args.repeats // 3))
        stopped_s, stopped = timed(lambda: harness(task.generation), 1)
    tokens = sum(len(ids) for ids in batched_ids)
    decoded = tokenizer.batch_decode([torch.tensor(ids) for ids in batched_ids], skip_special_tokens=True)
    print(f"machine: {cpu_model()}, {args.threads} threads; commit {git_hash()}; torch {torch.__version__}; model {args.model}")
    print(f"task {args.task}: {len(prompts)} prompts in {len(batches)} batches of up to {batch_size}, {args.max_new_tokens} new tokens, greedy")
    print(f"new tokens generated (batched generate): {tokens}")
    for name, seconds in (("harness", harness_s), ("batched generate", batched_s), ("one at a time", single_s)):
        print(f"{name:>17}: {seconds:8.2f} s  {tokens / seconds:8.1f} new tokens/s")
    print(f"harness / batched generate: {batched_s / harness_s:.2f}x the speed (target >= 0.95x)")
    print(f"harness / one at a time:    {single_s / harness_s:.2f}x the speed (target >= 3x)")
    print(f"same outputs: harness = batched generate {harness_texts == decoded}; one at a time = batched {single_ids == batched_ids}")
    per_batch = memory[: len(batches)]
    print(f"resident memory after each harness batch (MB): first {per_batch[0]:.0f}, last {per_batch[-1]:.0f}, max {max(per_batch):.0f}; "
          f"process peak {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MB")
    print(f"as a run generates (the task's stop strings {list(task.generation.stop)}, its max_new_tokens {task.generation.max_new_tokens}): "
          f"{stopped_s:.2f} s, mean output {statistics.mean(len(t) for t in stopped):.0f} characters")


if __name__ == "__main__":
    main()
