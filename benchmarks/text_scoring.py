"""Evaluation time of the text formulation (shared-prompt scoring vs one full pass per answer) against heads.

On the default scenario (order 1, seed 0, every task's test split) with the chosen
model, times ``--repeats`` evaluations of each way of scoring every task:

- ``heads``: the heads formulation's accuracy (one pass over the text, the task's head);
- ``text shared``: rank classification, the prompt encoded once (the start every prompt
  of a batch shares, once per batch) and every answer scored from its cached
  keys/values (what runs use);
- ``text full``: one full pass over prompt + answer per candidate answer (the reference).

It prints the median seconds of each, the ratios, the tokens each way runs, and the
largest difference in log-likelihood between the two text scorers. Target: text
(shared) at most 1.3x heads for up to 4 answers.

    .venv/bin/python benchmarks/text_scoring.py
    .venv/bin/python benchmarks/text_scoring.py --model tiny --setting class_incremental
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import torch  # noqa: E402

from benchmark.core.environment import cpu_model, physical_cores  # noqa: E402
from benchmark.engine.evaluation import task_accuracy  # noqa: E402
from benchmark.engine.measuring import new_model  # noqa: E402
from benchmark.engine.parallel import make_parallel  # noqa: E402
from benchmark.engine.text_evaluation import competing_classes  # noqa: E402
from benchmark.engine.text_scoring import full_pass_loglik, shared_prefix, shared_prompt_loglik  # noqa: E402
from benchmark.model.batching import eval_batch_indices  # noqa: E402
from benchmark.model.encoding import EncodedTask  # noqa: E402
from benchmark.model.task_model import TaskModel, eval_mode  # noqa: E402
from benchmark.suite.config import build_config  # noqa: E402
from benchmark.suite.setup import setup_suite  # noqa: E402
from scenarios.catalog import load_scenario  # noqa: E402


def score_text(model: TaskModel, tasks: list[EncodedTask], scorer: object, pad_id: int, batch_size: int, setting: str) -> list[torch.Tensor]:
    """Every task's (examples x answers) log-likelihoods by ``scorer``, as a row-1.. evaluation after the last task sees them."""
    out = []
    with eval_mode(model), torch.inference_mode():
        for j, task in enumerate(tasks):
            classes = competing_classes(tasks, len(tasks), j, setting)
            for indices in eval_batch_indices(task.test.lengths, batch_size):
                out.append(scorer(model, [task.test.input_ids[i] for i in indices], [task.answers[c] for c in classes], pad_id, task.head))
    return out


def timed(fn: object, repeats: int) -> tuple[float, object]:
    seconds, result = [], None
    for _ in range(repeats):
        tick = time.perf_counter()
        result = fn()
        seconds.append(time.perf_counter() - tick)
    return statistics.median(seconds), result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default="smollm2-135m")
    parser.add_argument("--setting", default="task_incremental", choices=["task_incremental", "class_incremental"])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--threads", type=int, default=physical_cores())
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    spec = load_scenario("default")
    results = {}
    for formulation in ("heads", "text"):
        config = build_config(overrides=[{"model": args.model, "formulation": formulation, "setting": args.setting, "seeds": [0], "progress": False}])
        setup = setup_suite(config, threads=args.threads, parallel=make_parallel("cpu", "fp32"), launcher="sequential", spec=spec)
        tasks = setup.tasks(config, 1, 0)
        model = new_model(setup.backbone, tasks, 0, torch.device("cpu"), formulation)
        batch, pad = config.eval.batch_size, setup.backbone.pad_id
        if formulation == "heads":
            results["heads"] = timed(lambda: [task_accuracy(model, t, pad_id=pad, batch_size=batch) for t in tasks], args.repeats)
            tokens_heads = sum(sum(t.test.lengths) for t in tasks)
            continue
        results["text shared"] = timed(lambda: score_text(model, tasks, shared_prompt_loglik, pad, batch, args.setting), args.repeats)
        results["text full"] = timed(lambda: score_text(model, tasks, full_pass_loglik, pad, batch, args.setting), args.repeats)
        answers = [len(competing_classes(tasks, len(tasks), j, args.setting)) for j in range(len(tasks))]
        tokens_prompt = sum(sum(t.test.lengths) for t in tasks)
        tokens_after_prefix = sum(
            sum(len(p) for p in prompts) - (len(prompts) - 1) * shared_prefix(prompts)
            for t in tasks for prompts in ([t.test.input_ids[i] for i in idx] for idx in eval_batch_indices(t.test.lengths, batch))
        )
        tokens_answers = sum(len(t.test) * sum(len(t.answers[c]) for c in competing_classes(tasks, len(tasks), j, args.setting)) for j, t in enumerate(tasks))
    gap = max(float((a - b).abs().max()) for a, b in zip(results["text shared"][1], results["text full"][1]))
    print(f"text scoring vs heads: {args.model}, default scenario order 1 seed 0, {args.setting}, {args.threads} thread(s), {cpu_model()}")
    print(f"answers per task: {answers}; tokens: heads {tokens_heads:,}, text prompts {tokens_prompt:,} "
          f"({tokens_after_prefix:,} run once each batch's shared start is run once) + answer tokens {tokens_answers:,}")
    for name, (seconds, _) in results.items():
        print(f"{name:>12}: {seconds:7.2f} s  ({seconds / results['heads'][0]:.2f}x heads)")
    print(f"text shared / text full: {results['text shared'][0] / results['text full'][0]:.2f}; largest log-likelihood difference {gap:.2e}")


if __name__ == "__main__":
    main()
