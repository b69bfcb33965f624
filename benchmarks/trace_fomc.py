"""TRACE's protocol on one real TRACE task: FOMC zero-shot with TRACE's own prompt, then after one task of naive training.

Reads ``<data-dir>/trace/FOMC/{train,test}.json`` (TRACE's layout; ``../shared/data`` in
development) through ``loader: trace``, poses each prompt exactly as TRACE wrote it (no
chat template), generates greedily and scores accuracy on the output. Runs ``naive``
for one seed with ``--train-size`` training examples and prints row 0 (zero-shot) and
row 1 (after training) with 95% bootstrap intervals over the test examples, how many
outputs were one of the three answers, and the run's seconds. The training budget is
the generative scenario's for a 135M model on CPU (lr 3e-4, batch 8, one epoch), not
TRACE's (lr 1e-5, 3 epochs of 5,000 examples for FOMC, LLaMA-2-7B).

    .venv/bin/python benchmarks/trace_fomc.py --data-dir ../shared/data
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import numpy as np  # noqa: E402

from benchmark.cli import main as run  # noqa: E402
from benchmark.core.environment import cpu_model, git_hash  # noqa: E402
from benchmark.results.generations import decode_generations  # noqa: E402
from benchmark.results.records import read_record, record_files  # noqa: E402

SCENARIO = """name: trace_fomc
version: 1
description: TRACE's FOMC task alone, from TRACE's files.
formulation: generate
prompt: '{{text}}'
prompt_style: plain
tasks:
  - name: FOMC
    source: {{loader: trace, args: {{task: FOMC, root: trace}}}}
    text_field: prompt
    answer_field: answer
    metric: accuracy
    train_size: {train}
    test_size: {test}
    max_length: 256
orders:
  - [FOMC]
train: {{lr: 3.0e-4, batch_size: 8, epochs: 1}}
"""
ANSWERS = ("dovish", "hawkish", "neutral")


def interval(scores: list[float], seed: int = 0) -> tuple[float, float]:
    """95% percentile bootstrap interval of the mean score (10,000 resamples of the test examples)."""
    values = np.asarray(scores)
    draws = np.random.default_rng(seed).integers(0, len(values), size=(10_000, len(values)))
    means = values[draws].mean(axis=1)
    return float(np.percentile(means, 2.5)), float(np.percentile(means, 97.5))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-dir", default=str(Path(__file__).resolve().parents[2] / "shared" / "data"))
    parser.add_argument("--model", default="smollm2-135m")
    parser.add_argument("--train-size", type=int, default=480)
    parser.add_argument("--test-size", type=int, default=300)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        scenario = Path(folder) / "trace_fomc.yaml"
        scenario.write_text(SCENARIO.format(train=args.train_size, test=args.test_size), encoding="utf-8")
        out = Path(folder) / "results"
        status = run(["--scenario", str(scenario), "--data-dir", args.data_dir, "--model", args.model, "--strategies", "naive",
                      "--seeds", str(args.seed), "--out", str(out), "--no-progress", "--set", "eval.ppl_tokens=0"])
        if status != 0:
            sys.exit(status)
        (record,) = [read_record(p) for p in record_files(out)]
    print(f"\nTRACE FOMC, {args.model}, naive, seed {args.seed}: {args.train_size} training / {args.test_size} test examples, greedy; "
          f"commit {git_hash()}, {cpu_model()}; {record.total_seconds:.0f} s")
    train = record.config["train"]
    print(f"training: lr {train['lr']}, batch {train['batch_size']}, {train['epochs']} epoch(s)")
    for row, label in ((0, "zero-shot (row 0)"), (1, "after naive on FOMC (row 1)")):
        got = decode_generations(record.measures["generations"][row][0])
        low, high = interval(got.scores)
        kinds = Counter(o.strip().lower() if o.strip().lower() in ANSWERS else "other" for o in got.outputs)
        print(f"{label:>28}: accuracy {100 * got.accuracy:5.1f}% [95% CI {100 * low:.1f}, {100 * high:.1f}]; outputs {dict(sorted(kinds.items()))}")
        common = Counter(o[:60] for o in got.outputs).most_common(3)
        print(" " * 30 + "most common outputs: " + "; ".join(f"{text!r} x{n}" for text, n in common))


if __name__ == "__main__":
    main()
