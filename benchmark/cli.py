"""The command line: run a suite, list what is registered, build the leaderboard.

    python run_benchmark.py [--scenario NAME] [--strategies a,b] [--model M] [--seeds 0,1] ...
    python run_benchmark.py --list
    python run_benchmark.py leaderboard --results results/ [--format md] [--out FILE]
    python run_benchmark.py plan --model llama-3.1-8b --dtype bf16 --strategies naive,lora [--shards 8]
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from benchmark.core.arguments import ArgumentParser
from benchmark.core.errors import EXIT_USER_ERROR, UserError
from benchmark.core.printable import printable

# Flag -> dotted config path. Values stay strings here; the config checker types them.
FLAG_PATHS = {
    "scenario": "scenario", "order": "orders", "strategies": "strategies", "model": "model",
    "model_kind": "model_kind", "dtype": "dtype", "seeds": "seeds", "out": "out", "setting": "setting",
    "formulation": "formulation", "decode": "decode",
    "device": "device", "threads": "threads", "data_dir": "data_dir", "train_size": "train_size",
    "test_size": "test_size", "epochs": "train.epochs", "lr": "train.lr", "batch_size": "train.batch_size",
    "precision": "train.precision", "eval_on": "eval.eval_on", "ppl_tokens": "eval.ppl_tokens",
    "grad_accum": "train.grad_accum_steps", "sharding": "train.sharding", "freeze_layers": "train.freeze_layers", "launcher": "launch.launcher", "jobs": "launch.jobs",
    "measures": "measures", "plugins": "plugins", "report_to": "report_to", "ray_address": "launch.ray_address", "cpus_per_run": "launch.cpus_per_run", "gpus_per_run": "launch.gpus_per_run",
}


SUBCOMMANDS = (
    "Subcommands (each with its own --help): `forgetbench run [flags]` runs a suite, the same as the flags alone or "
    "`python run_benchmark.py [flags]`; `forgetbench list [--plugins M]` lists what is registered (= --list); "
    "`forgetbench leaderboard --results DIR` builds tables from records; "
    "`forgetbench plan [run flags] [--shards N]` prints each process's memory for a run."
)


def run_parser() -> argparse.ArgumentParser:
    parser = ArgumentParser(
        prog="forgetbench",
        description="Run a continual-learning forgetting benchmark: a scenario's tasks in order through each strategy.",
        epilog=SUBCOMMANDS,
    )
    add = parser.add_argument
    add("--list", action="store_true", help="list registered scenarios, strategies, measures, metrics, models and presets, then exit")
    add("--plugins", metavar="MODULE[,MODULE]", help="import these modules (dotted names or .py paths) first, so what they register can be used")
    add("--config", metavar="FILE", help="suite config YAML (keys = SuiteConfig fields); flags override it")
    add("--preset", metavar="NAME", help="a named partial config applied first (smoke: tiny model, small splits)")
    add("--scenario", metavar="NAME[@V]|FILE", help="registered scenario name (NAME@VERSION for an earlier version) or path to a scenario YAML (default: default)")
    add("--order", metavar="K[,K]|all", help="1-based task order(s) of the scenario, or all (default: 1)")
    add("--strategies", metavar="A,B", help="comma-separated strategies; `a+b` composes two (default: naive)")
    add("--measures", metavar="A,B", help="what is measured on row 0 and after each task (default: accuracy,perplexity; --list shows all)")
    add("--model", metavar="NAME|PATH|HUB_ID", help="registered model, local model directory or hub id (default: smollm2-135m); a,b: the model axis, one results folder per model under --out")
    add("--model-kind", choices=["auto", "causal", "encoder", "seq2seq"], help="force the backbone kind instead of reading the config (seq2seq: T5-like, text formulation only)")
    add("--seeds", metavar="S[,S]", help="comma-separated seeds (default: the scenario's, else 0; the default scenario's are 0,1,2)")
    add("--out", metavar="DIR", help="results directory for run records (default: results)")
    add("--setting", choices=["task_incremental", "class_incremental"], help="per-task heads or one shared head")
    add("--formulation", metavar="NAME", help="how tasks are posed: heads (a linear head per task, default), text (prompts and answer strings), or a plug-in's; --list shows all")
    add("--decode", choices=["rank", "greedy", "sample", "beam"],
        help="rank the answers by log-likelihood (text's default) or generate: greedy (generate's default), sample (seeded) or beam (4 beams)")
    add("--eval-on", choices=["seen_next", "seen", "all"], help="tasks evaluated after each task (default: seen_next)")
    add("--epochs", metavar="N", help="epochs per task")
    add("--lr", metavar="LR", help="backbone learning rate")
    add("--batch-size", metavar="N", help="training batch size")
    add("--train-size", metavar="N", help="training examples per task (overrides the scenario)")
    add("--test-size", metavar="N", help="test examples per task (overrides the scenario)")
    add("--ppl-tokens", metavar="N", help="general-corpus tokens scored for perplexity (0: none)")
    add("--precision", "--mixed-precision", dest="precision", choices=["fp32", "bf16", "fp16"],
        help="fp32, or accelerate's bf16/fp16 mixed precision (fp16 is for GPUs without bf16)")
    add("--dtype", choices=["fp32", "bf16", "fp16", "auto"],
        help="the type the weights are stored and trained in (default: fp32; auto: bf16 on a GPU that has it, else fp32)")
    add("--gradient-checkpointing", "--activation-checkpointing", dest="gradient_checkpointing", action="store_true",
        help="recompute each block's activations in the backward pass: less memory, more time, the same gradients")
    add("--sharding", choices=["none", "fsdp"],
        help="fsdp: cut weights, gradients and optimizer state over the processes of accelerate launch (PyTorch FSDP2); default none")
    add("--freeze-layers", metavar="K", help="keep the embeddings and the K lowest transformer blocks frozen, whatever the strategy (default 0)")
    add("--grad-accum", metavar="N", help="micro-batches per optimizer step; --batch-size stays the step's batch")
    add("--device", metavar="DEV", help="cpu, cuda, cuda:N or auto (default: cpu)")
    add("--threads", metavar="N", help="torch threads (default: OMP_NUM_THREADS when set, else the physical cores)")
    add("--launcher", choices=["sequential", "local", "ray"], help="how the suite's runs are executed (default: sequential; --jobs N>1 implies local)")
    add("--jobs", metavar="N|auto", help="runs at a time in worker processes (--launcher local); auto: one single-thread worker per physical core that fits in memory")
    add("--ray-address", metavar="ADDR", help="an existing Ray cluster, e.g. ray://head:10001 or auto (default: a local Ray instance)")
    add("--cpus-per-run", metavar="N", help="CPUs (and torch threads) each run gets under --launcher local or ray")
    add("--gpus-per-run", metavar="G", help="GPUs each Ray task asks for (may be fractional, e.g. 0.5)")
    add("--data-dir", metavar="DIR", help="folder holding local data files of the scenario")
    add("--set", metavar="KEY=VALUE", action="append", default=[], help="any config field, e.g. --set train.warmup_ratio=0 (repeatable)")
    add("--no-progress", action="store_true", help="no progress bars")
    add("--resume", action="store_true", help="continue interrupted runs and skip recorded ones (the default; stated for scripts)")
    add("--overwrite", action="store_true", help="run everything again, replacing existing records and checkpoints")
    add("--keep-checkpoints", action="store_true", help="keep the per-task checkpoints of finished runs")
    add("--sweep", metavar="KEY=V1,V2", action="append", default=[],
        help="run every value of a config key, e.g. --sweep strategy_args.ewc.ewc_lambda=1,10,100 (repeatable: a grid); records name their point")
    add("--report-to", metavar="A,B|none", help="experiment trackers that watch each run: tensorboard, wandb, mlflow (offline, under <out>/trackers/; default none)")
    return parser


def overrides_from_args(args: argparse.Namespace) -> list[dict[str, Any]]:
    """Turns the given flags into nested config overrides (flags not given are left out)."""
    from benchmark.core.config import nested_override, parse_set_option, parse_sweep_option

    overrides: list[dict[str, Any]] = []
    for attribute, dotted in FLAG_PATHS.items():
        value = getattr(args, attribute)
        if value is None:
            continue
        if attribute == "model" and "," in value:  # the model axis (no model name or hub id holds a comma)
            dotted = "models"
        overrides.append(nested_override(dotted, value))
    if args.jobs is not None and args.launcher is None and args.jobs.strip() != "1":
        overrides.append({"launch": {"launcher": "local"}})
    if args.no_progress:
        overrides.append({"progress": False})
    if args.resume and args.overwrite:
        raise UserError("--resume and --overwrite contradict each other; pass only one of them")
    if args.overwrite:
        overrides.append({"overwrite": True})
    if args.keep_checkpoints:
        overrides.append({"keep_checkpoints": True})
    if args.gradient_checkpointing:
        overrides.append({"train": {"gradient_checkpointing": True}})
    overrides.extend(parse_set_option(item) for item in args.set)
    overrides.extend(parse_sweep_option(item) for item in args.sweep)
    return overrides


def print_registry() -> None:
    """Prints every registered scenario, formulation, strategy, measure, metric, model, loader, tracker and preset with one line each."""
    from benchmark.core.config import PRESETS
    from benchmark.engine.formulations import FORMULATIONS
    from benchmark.engine.measures import MEASURES
    from benchmark.engine.strategy import STRATEGIES
    from benchmark.engine.tracking import TRACKERS
    from benchmark.model.backbones import MODELS
    from benchmark.results.metrics import METRICS
    from scenarios.catalog import SCENARIOS
    from scenarios.loaders import LOADERS

    sections = [
        ("Scenarios", [(e.name, e.description) for e in SCENARIOS]),
        ("Formulations (--formulation)", [(e.name, e.description) for e in FORMULATIONS]),
        ("Strategies", [(e.name, e.description) for e in STRATEGIES]),
        ("Measures (--measures; the series each stores)", [
            (e.name, f"{e.description} [{', '.join(f'{k}: {v}' for k, v in e.obj.series.items())}]") for e in MEASURES
        ]),
        ("Metrics (↑ higher is better, ↓ lower)", [(f"{e.name} {'↑' if e.obj.higher_is_better else '↓'}", e.description) for e in METRICS]),
        ("Models", [(e.name, e.description) for e in MODELS]),
        ("Data loaders (a scenario's source.loader)", [(e.name, e.description) for e in LOADERS]),
        ("Experiment trackers (--report-to)", [(e.name, e.description) for e in TRACKERS]),
        ("Presets", [(name, ", ".join(f"{k}={v}" for k, v in values.items())) for name, values in PRESETS.items()]),
    ]
    for title, rows in sections:
        print(f"{title}:")
        width = max((len(n) for n, _ in rows), default=0)
        for name, text in rows:
            print(f"  {name.ljust(width)}  {text}")
        print()


def requested_plugins(args: argparse.Namespace) -> list[str]:
    """The plugins of ``--plugins`` and of the config file's ``plugins:`` (imported before the config is resolved: a
    plugin may register the scenario's loader or the preset's model)."""
    from benchmark.core.typed_yaml import read_yaml_file

    names = [n.strip() for n in (args.plugins or "").split(",") if n.strip()]
    if args.config:
        data = read_yaml_file(args.config, what="config file", missing_hint="pass an existing YAML file to --config")
        listed = data.get("plugins") if isinstance(data, dict) else None
        if isinstance(listed, str):
            listed = listed.split(",")
        names += [str(n).strip() for n in listed] if isinstance(listed, list) else []  # another type: the config check names it
    return names


def report(records: list[Any], out: str) -> int:
    """Prints the suite's summary table and every failed run; the exit status (1 if a run failed)."""
    from leaderboard.formats import summary_markdown

    failed = [r for r in records if r.status != "finished"]
    print()
    print(summary_markdown(records))
    print(f"\n{len(records)} record(s) written to {Path(out).resolve()}")
    for record in failed:
        print(f"run {record.run_id} failed: {record.error}", file=sys.stderr)
    return 1 if failed else 0


def plan_parser() -> argparse.ArgumentParser:
    """The flags of ``plan``: a run's, plus ``--shards``."""
    parser = run_parser()
    parser.prog = "forgetbench plan"
    parser.description = "Print each process's memory for a run's flags, part by part (no weights are read)."
    parser.add_argument("--shards", metavar="N", type=int, default=1, help="processes the run's state is sharded over (FSDP); default 1")
    return parser


def list_command(argv: Sequence[str]) -> int:
    """``list``: what is registered (scenarios, strategies, measures, ...), after importing ``--plugins``."""
    from benchmark.core.plugins import import_plugins

    parser = ArgumentParser(prog="forgetbench list", description="List registered scenarios, strategies, formulations, measures, metrics, models and presets.")
    parser.add_argument("--plugins", metavar="MODULE[,MODULE]", help="import these modules (dotted names or .py paths) first, so what they register is listed")
    args = parser.parse_args(list(argv))
    import_plugins([n.strip() for n in (args.plugins or "").split(",") if n.strip()])
    print_registry()
    return 0


def plan_command(argv: Sequence[str]) -> int:
    """``plan``: a run's flags plus ``--shards N``; prints every strategy's memory plan (see :mod:`benchmark.suite.memory_report`)."""
    from benchmark.core.plugins import import_plugins
    from benchmark.suite.memory_report import plan_text
    from benchmark.suite.config import build_config

    args = plan_parser().parse_args(list(argv))
    if args.shards < 1:
        raise UserError(f"--shards must be at least 1, got {args.shards}; give the number of processes")
    import_plugins(requested_plugins(args))
    config = build_config(preset=args.preset, config_file=args.config, overrides=overrides_from_args(args))
    print(plan_text(config, args.shards))
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of ``forgetbench`` and ``python run_benchmark.py``; returns the exit status.

    Which command (a suite run, ``run``, ``list`` or ``--list``, ``leaderboard``, ``plan``), the user's plugins, the
    configuration, then :func:`benchmark.suite.runner.run_suite` and the summary.
    """
    argv = list(sys.argv[1:] if argv is None else argv)
    try:
        if argv and argv[0] == "leaderboard":
            from leaderboard.cli import leaderboard_command

            return leaderboard_command(argv[1:])
        if argv and argv[0] == "plan":
            return plan_command(argv[1:])
        if argv and argv[0] == "list":
            return list_command(argv[1:])
        parser = run_parser()
        if argv and argv[0] == "run":
            argv, parser.prog = argv[1:], "forgetbench run"
        args = parser.parse_args(argv)
        from benchmark.core.plugins import import_plugins

        import_plugins(requested_plugins(args))
        if args.list:
            print_registry()
            return 0
        from benchmark.engine.parallel import is_main_process
        from benchmark.suite.config import build_config
        from benchmark.suite.launchers import SuiteIncomplete
        from benchmark.suite.runner import run_suite

        config = build_config(preset=args.preset, config_file=args.config, overrides=overrides_from_args(args))
        try:
            records = run_suite(config)
        except SuiteIncomplete as exc:
            print(f"error: {exc}", file=sys.stderr)
            return 1
        # Under accelerate launch every process has the records; the main one reports.
        return report(records, config.out) if is_main_process() else 0
    except UserError as exc:
        print(f"error: {printable(str(exc))}", file=sys.stderr)
        return EXIT_USER_ERROR
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:  # the reader (head, less) stopped reading: nothing went wrong
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())  # so the interpreter's final flush does not fail again
        return 0
