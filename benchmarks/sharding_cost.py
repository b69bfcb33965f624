"""What ``--sharding fsdp`` costs on this machine's CPU: one process, two DDP processes, two FSDP processes.

One run (SmolLM2-135M shipped in the package, the default scenario at seed 0 cut to
``--train-size`` / ``--test-size`` examples per task, ``--strategies``) is timed whole,
start-up included, with one process, with ``accelerate launch --num_processes 2``
(DistributedDataParallel: every process holds the model) and with ``--sharding fsdp``
over the same two processes. Each process gets ``cores / processes`` torch threads.
Prints the wall times, the slow-down against one process, each run's time in training
and evaluation from its record, and whether the records' accuracy matrices are
identical and how far their perplexities are apart.

    python benchmarks/sharding_cost.py
    python benchmarks/sharding_cost.py --strategies ewc --train-size 128
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from tabulate import tabulate

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from benchmark.core.environment import physical_cores  # noqa: E402

LAUNCH = [sys.executable, "-m", "accelerate.commands.launch", "--multi_gpu", "--num_processes", "2", "--num_machines", "1",
          "--mixed_precision", "no", "--dynamo_backend", "no", "--main_process_port", "29617"]


def run(name: str, args: argparse.Namespace, out: Path) -> tuple[float, dict]:
    """Seconds the whole command takes and the record it writes."""
    cores = physical_cores()
    processes = 1 if name == "one process" else 2
    command = [
        str(ROOT / "run_benchmark.py"), "--model", "smollm2-135m", "--strategies", args.strategies, "--seeds", "0", "--no-progress",
        "--train-size", str(args.train_size), "--test-size", str(args.test_size), "--ppl-tokens", str(args.ppl_tokens),
        "--threads", str(max(1, cores // processes)), "--out", str(out), "--device", "cpu",
    ]
    if name == "2 processes, FSDP":
        command += ["--sharding", "fsdp"]
    launcher = [sys.executable] if processes == 1 else LAUNCH
    start = time.perf_counter()
    done = subprocess.run([*launcher, *command], capture_output=True, text=True, cwd=ROOT, env=dict(os.environ, PYTHONPATH=str(ROOT)))
    seconds = time.perf_counter() - start
    if done.returncode != 0:
        raise SystemExit(f"{name} failed:\n{done.stderr[-3000:]}")
    (path,) = out.glob("*.json")
    return seconds, json.loads(path.read_text())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--strategies", default="naive", help="one strategy (default: naive)")
    parser.add_argument("--train-size", type=int, default=64)
    parser.add_argument("--test-size", type=int, default=64)
    parser.add_argument("--ppl-tokens", type=int, default=4096)
    args = parser.parse_args()
    rows, records = [], {}
    with tempfile.TemporaryDirectory() as folder:
        for name in ("one process", "2 processes, DDP", "2 processes, FSDP"):
            seconds, record = run(name, args, Path(folder) / name.replace(" ", "_").replace(",", ""))
            records[name] = record
            train = sum(t["train_s"] for t in record["timings"])
            evaluate = sum(t["eval_s"] + t["ppl_s"] for t in record["timings"])
            rows.append([name, f"{seconds:.1f}", f"{train:.1f}", f"{evaluate:.1f}"])
    alone = float(rows[0][1])
    for row in rows:
        row.append(f"{float(row[1]) / alone:.2f}x")
    print(f"{args.strategies} on SmolLM2-135M, default scenario at {args.train_size} train / {args.test_size} test examples per task, "
          f"{physical_cores()} physical cores (threads split between processes)\n")
    print(tabulate(rows, headers=["launch", "wall s", "training s", "evaluation s", "wall vs one process"], tablefmt="github"))
    base = records["one process"]["measures"]
    for name in ("2 processes, DDP", "2 processes, FSDP"):
        other = records[name]["measures"]
        same = other["accuracy"] == base["accuracy"]
        gap = max(abs(a - b) / b for a, b in zip(other["perplexity"], base["perplexity"]))
        print(f"\n{name}: accuracy matrix {'identical' if same else 'DIFFERENT'} to one process; perplexity within {gap:.1e} relative")


if __name__ == "__main__":
    main()
