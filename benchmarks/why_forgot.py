"""Why did it forget? The measured page docs/results/why-forgot.md: probes, layer-wise drift and LM recovery per strategy and model.

With ``--run`` it first runs the suite: the default scenario (order 1), naive, ewc, l2sp,
lora and frozen on SmolLM2-135M and all-MiniLM-L6-v2 (the model axis), with the
measures probe, layer_probe, cka and lm_recovery, seed 0 (``--seeds 0,1`` for more). Then it reads the results
directory and prints, as markdown:

1. per (model, strategy): ACC, BWT, probe ACC, probe BWT, the readout gap, the final
   layer's probe change, the most-changed layer, CKA to the pretrained model (corpus and
   tasks), the perplexity ratio and the LM recovery metrics (all from the records' metrics);
2. per model and strategy, the layer-wise drift after the last task at five depths:
   CKA on the corpus and the mean probe-accuracy change over tasks;
3. per run, its seconds, its training seconds and each measure's seconds after the
   tasks (what the measures cost a run whose row 0 a suite shares).

    .venv/bin/python benchmarks/why_forgot.py --run --out results-why
    .venv/bin/python benchmarks/why_forgot.py --out results-why     # tables only
"""

from __future__ import annotations

import argparse
import math
import sys
from pathlib import Path

import numpy as np
from tabulate import tabulate

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmark.core.environment import cpu_model, physical_cores  # noqa: E402
from benchmark.results.records import RunRecord  # noqa: E402
from benchmarks.measure_cost import measure_seconds  # noqa: E402
from leaderboard.loading import load_records  # noqa: E402

MODELS = ["smollm2-135m", "minilm-l6"]
STRATEGIES = ["naive", "ewc", "l2sp", "lora", "frozen"]
MEASURES = ["accuracy", "perplexity", "probe", "layer_probe", "cka", "lm_recovery"]
DEPTHS = (0.0, 0.25, 0.5, 0.75, 1.0)  # share of the depth: 0 embeddings, 1 the final layer


def run_suite(out: str, seeds: list[int]) -> None:
    """Runs the measured suite into ``out`` (recorded runs are skipped)."""
    from benchmark.suite.config import build_config
    from benchmark.suite.runner import run_suite as run

    run(build_config(overrides=[{
        "models": MODELS, "strategies": STRATEGIES, "measures": MEASURES, "seeds": seeds, "orders": [1], "out": out, "progress": False,
    }]))


def percent(value: float | None) -> str:
    return "-" if value is None or math.isnan(value) else f"{100 * value:.1f}"


def number(value: float | None, digits: int = 3) -> str:
    return "-" if value is None or math.isnan(value) else f"{value:.{digits}f}"


def most_changed(record: RunRecord) -> str:
    depth = record.metrics.get("layer_probe_most_changed_depth")
    layers = record.measures.get("layer_probe")
    if depth is None or not layers:
        return "-"
    n_layers = len(next(cell for cell in layers[0] if cell is not None)) - 1
    return f"{round(depth * n_layers)} of {n_layers}"


def recovery_steps(record: RunRecord) -> str:
    if record.measures.get("lm_recovery") is None or record.measures["lm_recovery"][-1] is None:
        return "n/a (no LM head)" if "lm_recovery" in record.extra.get("not_applicable", {}) else "-"
    steps = record.metrics.get("lm_recovery_steps")
    return "not within 32" if steps is None or math.isnan(steps) else f"{steps:.0f}"


def summary_table(records: list[RunRecord]) -> str:
    rows = []
    for r in records:
        m = r.metrics
        rows.append([
            r.model, r.strategy, r.seed, percent(m.get("acc")), percent(m.get("bwt")), percent(m.get("probe_acc")), percent(m.get("probe_bwt")),
            percent(m.get("readout_gap")), percent(m.get("layer_probe_top_change")), most_changed(r),
            number(m.get("cka_corpus_top")), number(m.get("cka_tasks_top")), number(m.get("ppl_ratio")),
            recovery_steps(r), percent(m.get("lm_recovery_fraction")),
        ])
    headers = ["model", "strategy", "seed", "ACC", "BWT", "probe ACC", "probe BWT", "readout gap", "final-layer probe Δ", "most-changed layer",
               "CKA top (corpus)", "CKA top (tasks)", "PPL ratio", "LM steps to 5%", "PPL increase recovered"]
    return tabulate(rows, headers=headers, tablefmt="github", disable_numparse=True)


def at_depths(values: list[float]) -> list[float]:
    """``values`` (one per layer, embeddings first) at the :data:`DEPTHS`."""
    return [values[round(share * (len(values) - 1))] for share in DEPTHS]


def layer_table(records: list[RunRecord]) -> str:
    rows = []
    for r in records:
        cka_rows = r.measures.get("cka_corpus") or []
        probes = r.measures.get("layer_probe") or []
        if not cka_rows or cka_rows[-1] is None or not probes or probes[-1] is None:
            continue
        before = np.array([cell for cell in probes[0] if cell is not None], dtype=float)
        after = np.array([cell for cell in probes[-1] if cell is not None], dtype=float)
        change = (after - before).mean(axis=0) * 100
        rows.append([r.model, r.strategy, r.seed, "CKA (corpus)", *(f"{v:.3f}" for v in at_depths(cka_rows[-1]))])
        rows.append(["", "", "", "probe Δ (points)", *(f"{v:+.1f}" for v in at_depths(list(change)))])
    headers = ["model", "strategy", "seed", "after the last task"] + [f"{int(100 * share)}% depth" for share in DEPTHS]
    return tabulate(rows, headers=headers, tablefmt="github", disable_numparse=True)


def cost_table(records: list[RunRecord]) -> str:
    """Per run: its seconds, its training seconds, and each measure's seconds over the rows after tasks (row 0 is shared by a suite's strategies)."""
    rows = []
    for r in records:
        spent = measure_seconds(r)
        rows.append([r.model, r.strategy, r.seed, f"{r.total_seconds:.0f}", f"{sum(step.train_s for step in r.timings):.0f}",
                     *(f"{spent.get(name, 0.0):.1f}" for name in MEASURES)])
    headers = ["model", "strategy", "seed", "run (s)", "training (s)", *(f"{name} (s)" for name in MEASURES)]
    return tabulate(rows, headers=headers, tablefmt="github", disable_numparse=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default="results-why")
    parser.add_argument("--run", action="store_true", help="run the suite first (recorded runs are skipped)")
    parser.add_argument("--seeds", default="0")
    args = parser.parse_args()
    if args.run:
        run_suite(args.out, [int(s) for s in args.seeds.split(",")])
    loaded = load_records(args.out)
    order = {(m, s): k for k, (m, s) in enumerate((m, s) for m in MODELS for s in STRATEGIES)}
    records = sorted((r for r in loaded.records if r.status == "finished"), key=lambda r: (order.get((r.model, r.strategy), 99), r.seed))
    seeds = sorted({r.seed for r in records})
    print(f"why did it forget: default scenario order 1, seed(s) {seeds}, {len(records)} runs; {cpu_model()}, {physical_cores()} cores")
    print()
    print(summary_table(records))
    print()
    print("Layer-wise drift after the last task (CKA to the pretrained model on 512 corpus positions; probe accuracy change "
          "from row 0, mean over tasks); depth 0% = embeddings, 100% = final layer:")
    print()
    print(layer_table(records))
    print()
    print("Seconds per run, from the records' timings (measures: summed over the rows after tasks):")
    print()
    print(cost_table(records))


if __name__ == "__main__":
    main()
