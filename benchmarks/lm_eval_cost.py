"""What the ``lm_eval`` measure costs, and whether it agrees with lm-eval's own command line.

Scores one model (default: SmolLM2-135M, the default benchmark's) on the harness's
offline lm-eval tasks twice: once through the measure's in-memory call
(:func:`benchmark.engine.general_ability.evaluate`, the model object handed to lm-eval's
``HFLM``), once through lm-eval's own CLI (``python -m lm_eval --model hf``) on a copy
of the same weights saved to disk, reading the same task YAMLs. Prints, per task, both
accuracies (they must agree exactly) and the wall seconds of each path per 100
multiple-choice examples. The CLI's seconds include its interpreter start and model
load, which is what a user pays who saves a checkpoint after every task to score it.

    .venv/bin/python benchmarks/lm_eval_cost.py --data-dir ../shared/data/cl_benchmark
    .venv/bin/python benchmarks/lm_eval_cost.py --data-dir DIR --tasks fb_copa,fb_rte --limit 100
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import torch  # noqa: E402

from benchmark.core.environment import cpu_model, physical_cores  # noqa: E402
from benchmark.core.lm_eval_config import LOCAL_TASKS, LmEvalConfig  # noqa: E402
from benchmark.engine.general_ability import check_settings, evaluate, resolved_tasks  # noqa: E402
from benchmark.model.backbones import MODELS  # noqa: E402


def cli_accuracies(model_dir: Path, settings: LmEvalConfig, out_dir: Path) -> tuple[dict[str, float], float]:
    """lm-eval's CLI on the saved model: accuracy per task and the command's wall seconds."""
    with resolved_tasks(settings) as folder:
        command = [
            sys.executable, "-m", "lm_eval", "run", "--model", "hf", "--model_args", f"pretrained={model_dir},dtype=float32",
            "--tasks", ",".join(settings.tasks), "--include_path", str(folder), "--limit", str(settings.limit),
            "--batch_size", str(settings.batch_size), "--num_fewshot", str(settings.num_fewshot), "--device", "cpu",
            "--output_path", str(out_dir),
        ]
        start = time.perf_counter()
        finished = subprocess.run(command, capture_output=True, text=True)
        if finished.returncode:
            raise SystemExit(f"lm-eval's CLI failed ({finished.returncode}):\n{finished.stderr[-3000:]}")
        seconds = time.perf_counter() - start
    (result_file,) = sorted(out_dir.rglob("results_*.json"))[-1:]
    results = json.loads(result_file.read_text())["results"]
    return {task: results[task]["acc,none"] for task in settings.tasks}, seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-dir", required=True, help="folder in the cl_benchmark layout (COPA/, BoolQA/, CB/, RTE/, SST-2/)")
    parser.add_argument("--model", default="smollm2-135m")
    parser.add_argument("--tasks", default=",".join(LOCAL_TASKS))
    parser.add_argument("--limit", type=int, default=100)
    parser.add_argument("--batch-size", type=int, default=8)
    parser.add_argument("--threads", type=int, default=physical_cores())
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    settings = LmEvalConfig(tasks=args.tasks.split(","), data_dir=args.data_dir, limit=args.limit, batch_size=args.batch_size)
    check_settings(settings, "benchmarks/lm_eval_cost.py")
    backbone = MODELS.get(args.model)(texts=[])
    backbone.model.eval()
    start = time.perf_counter()
    ours = evaluate(backbone.model, backbone.tokenizer, settings, backend=backbone.kind)
    our_seconds = time.perf_counter() - start
    examples = sum(len(g) for g in ours.gold.values())
    with tempfile.TemporaryDirectory() as tmp:
        model_dir = Path(tmp) / "model"
        backbone.model.save_pretrained(model_dir)
        backbone.tokenizer.save_pretrained(model_dir)
        theirs, cli_seconds = cli_accuracies(model_dir, settings, Path(tmp) / "out")
    print(f"# {args.model}, {examples} multiple-choice examples ({args.limit} per task), batch {args.batch_size}, "
          f"{args.threads} threads, {cpu_model()}, torch {torch.__version__}")
    print("| task | in memory (forgetbench) | lm-eval CLI on a saved copy | equal |")
    print("|---|---|---|---|")
    for task in settings.tasks:
        print(f"| {task} | {ours.accuracy[task]:.4f} | {theirs[task]:.4f} | {ours.accuracy[task] == theirs[task]} |")
    print(f"\nin memory: {our_seconds:.1f} s ({100 * our_seconds / examples:.1f} s per 100 examples)")
    print(f"lm-eval CLI: {cli_seconds:.1f} s ({100 * cli_seconds / examples:.1f} s per 100 examples, start-up and model load included)")


if __name__ == "__main__":
    main()
