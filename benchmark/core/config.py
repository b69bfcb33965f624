"""Suite configuration: dataclasses, presets, YAML files and command-line overrides.

The dataclass field names are the YAML keys and the ``--set`` paths, so one name
means one thing everywhere; values are type-checked by :mod:`benchmark.core.typed_yaml`.
"""

from __future__ import annotations

from collections.abc import Callable
import dataclasses
import difflib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import yaml

from benchmark.core.errors import UserError
from benchmark.core.config_rules import (
    check_applies, check_launch, check_names, check_perplexity_budget, check_strategy_args, check_weights,
)
from benchmark.core.lm_eval_config import LmEvalConfig
from benchmark.core.train_config import TrainConfig
from benchmark.core.typed_yaml import DuplicateKeyError, from_mapping, load_yaml, read_yaml_file

DEFAULT_MEASURES = ["accuracy", "perplexity"]  # what a record held before measures were selectable
DEFAULT_FORMULATION = "heads"  # a linear head per task (benchmark.engine.formulations lists them all)
DEFAULT_STRATEGIES = ["naive"]  # `make run`: naive's forgetting over the default scenario's three seeds (`make compare` adds L2-SP)
MAX_PROCESSES_OR_THREADS = 4096  # torch.set_num_threads takes a C int; beyond this a count is a typo
RANDOM_SUFFIX = ":random"  # --model NAME:random: the architecture with freshly drawn weights (benchmark.model.random_weights)
MAX_SEED = 2**32 - 1  # numpy and torch seeds are unsigned 32/64-bit; 32 bits is what both take everywhere


@dataclass
class EvalConfig:
    """What is measured after each task."""

    eval_on: Literal["seen_next", "seen", "all"] = "seen_next"
    batch_size: int = 64
    ppl_tokens: int = 4096
    ppl_context: int = 256
    ppl_batch_size: int = 4


@dataclass
class LaunchConfig:
    """How a suite's independent runs are executed.

    At equal torch threads per run every launcher gives the same records bit for bit
    (tested). The thread count is part of a run's float arithmetic: a run at 1 thread
    and one at 2 differ in the last digits (perplexity by about 1e-5 relative), which is
    why a checkpoint resumes only at the thread count it was made with.

    ``sequential`` runs them one after another in this process (which may itself be one
    of several started by ``accelerate launch``); ``local`` runs ``jobs`` of them at a
    time in worker processes; ``ray`` makes each run a Ray task, on a local Ray
    instance or the cluster at ``ray_address``, asking for ``cpus_per_run`` CPUs and
    ``gpus_per_run`` GPUs. A run's torch threads are its CPU share: ``threads``, else
    ``cpus_per_run``, else the cores / ``jobs`` (sequential: ``OMP_NUM_THREADS`` or the cores).

    ``jobs: auto`` picks, once the suite's runs and the model are known, as many
    single-thread workers as the machine has physical cores, at most one per run and no
    more than fit in memory (one run at a time with every core if only one fits); a
    run's thread count, hence its records, then does not depend on the core count. It
    pays where one run cannot use every core. On the 2-core reference VM it does not:
    two single-thread SmolLM2-135M runs of the default scenario took 393 and 412 s side
    by side, one 2-thread run 175-217 s, so the default stays sequential there.
    """

    launcher: Literal["sequential", "local", "ray"] = "sequential"
    jobs: int | Literal["auto"] = 1
    ray_address: str | None = None
    cpus_per_run: int | None = None
    gpus_per_run: float = 0.0


@dataclass
class SuiteConfig:
    """One suite: every (order, strategy, seed) combination of one scenario and model.

    Re-running a suite on the same ``out`` directory skips recorded runs and continues
    interrupted ones from their checkpoints; ``overwrite`` starts them all again.
    Checkpoints of finished runs are deleted unless ``keep_checkpoints``.
    """

    scenario: str = "default"
    orders: list[int] | Literal["all"] = field(default_factory=lambda: [1])
    strategies: list[str] = field(default_factory=lambda: list(DEFAULT_STRATEGIES))
    strategy_args: dict[str, dict[str, Any]] = field(default_factory=dict)
    measures: list[str] = field(default_factory=lambda: list(DEFAULT_MEASURES))  # what is measured after each task
    model: str = "smollm2-135m"
    models: list[str] = field(default_factory=list)  # the model axis: several models, one suite each (empty: just ``model``)
    model_kind: Literal["auto", "causal", "encoder", "seq2seq"] = "auto"
    dtype: Literal["fp32", "bf16", "fp16", "auto"] = "fp32"  # the weights' stored type (train.precision is autocast)
    seeds: list[int] = field(default_factory=lambda: [0])
    out: str = "results"
    setting: Literal["task_incremental", "class_incremental"] = "task_incremental"
    formulation: str = DEFAULT_FORMULATION  # how tasks are posed: heads, text, or a plug-in's (checked against the registry)
    # How answers are decoded: rank (text: by log-likelihood), greedy, sample or beam (generation); None: the formulation's default.
    decode: Literal["rank", "greedy", "sample", "beam"] | None = None
    device: str = "cpu"
    threads: int | None = None
    data_dir: str | None = None
    train_size: int | None = None
    test_size: int | None = None
    progress: bool = True
    overwrite: bool = False
    keep_checkpoints: bool = False
    report_to: list[str] = field(default_factory=list)  # experiment trackers that watch each run (tensorboard, wandb, mlflow; none)
    sweep: dict[str, list[Any]] = field(default_factory=dict)  # a grid: dotted config key -> values (--sweep KEY=V1,V2)
    sweep_point: dict[str, Any] = field(default_factory=dict)  # the values of one point of a sweep (set by the sweep, stated in the record)
    train: TrainConfig = field(default_factory=TrainConfig)
    eval: EvalConfig = field(default_factory=EvalConfig)
    launch: LaunchConfig = field(default_factory=LaunchConfig)
    lm_eval: LmEvalConfig = field(default_factory=LmEvalConfig)  # the lm_eval measure's settings
    plugins: list[str] = field(default_factory=list)  # the user's modules imported before any registry is read (--plugins)


# Presets are partial configs applied before the YAML file and the flags.
PRESETS: dict[str, dict[str, Any]] = {
    "smoke": {
        "model": "tiny",
        "seeds": [0],
        "train_size": 64,
        "test_size": 32,
        "train": {"batch_size": 16, "lr": 1e-3},
        "eval": {"ppl_tokens": 1024, "ppl_context": 64},
    },
}


def merge(base: dict[str, Any], override: dict[str, Any]) -> dict[str, Any]:
    """Recursively merges ``override`` into a copy of ``base`` (nested dicts merge, others replace)."""
    out = dict(base)
    for key, value in override.items():
        if isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = merge(out[key], value)
        else:
            out[key] = value
    return out


def read_yaml_config(path: str | Path) -> dict[str, Any]:
    """Reads a suite config YAML file into a mapping, with one-sentence errors."""
    data = read_yaml_file(path, what="config file", missing_hint="pass an existing YAML file to --config")
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise UserError(f"config file {str(path)!r} must hold a mapping of keys to values at the top level")
    return data


def nested_override(dotted: str, value: object) -> dict[str, Any]:
    """``train.lr``, 1e-4 as the override ``{"train": {"lr": 1e-4}}``."""
    node: dict[str, Any] = {}
    cursor = node
    *parents, leaf = dotted.strip().split(".")
    for part in parents:
        cursor = cursor.setdefault(part, {})
    cursor[leaf] = value
    return node


def option_value(raw: str, flag: str, text: str) -> Any:
    """A flag's value parsed as YAML (text that is not YAML is kept as it is: a path, a name)."""
    try:
        return load_yaml(raw)
    except DuplicateKeyError as exc:
        raise UserError(f"{flag} {text!r}: {exc.problem}; state each key once") from exc
    except yaml.YAMLError:
        return raw


def parse_sweep_option(text: str) -> dict[str, Any]:
    """Turns ``train.lr=1e-4,3e-4`` into ``{"sweep": {"train.lr": [1e-4, 3e-4]}}`` (each value parsed as YAML)."""
    if "=" not in text:
        raise UserError(f"--sweep {text!r} must look like KEY=V1,V2, e.g. --sweep strategy_args.ewc.ewc_lambda=1,10,100")
    key, raw = text.split("=", 1)
    return {"sweep": {key.strip(): [option_value(item, "--sweep", text) for item in raw.split(",") if item.strip()]}}


def parse_set_option(text: str) -> dict[str, Any]:
    """Turns ``train.lr=1e-4`` into ``{"train": {"lr": 1e-4}}`` (the value is parsed as YAML)."""
    if "=" not in text:
        raise UserError(f"--set {text!r} must look like KEY=VALUE, e.g. --set train.lr=1e-4")
    key, raw = text.split("=", 1)
    return nested_override(key, option_value(raw, "--set", text))


def resolve_config(
    *,
    preset: str | None = None,
    config_file: str | None = None,
    overrides: list[dict[str, Any]] | None = None,
    scenario_defaults: Callable[[str], dict[str, Any]] | None = None,
) -> SuiteConfig:
    """Resolves defaults < scenario budget < preset < YAML file < command-line overrides into a SuiteConfig.

    ``scenario_defaults(name)`` gives the chosen scenario's recommended settings; the
    suite layer passes the scenario catalog's (this layer sits below the scenarios).
    """
    data: dict[str, Any] = {}
    source = "defaults"
    if preset is not None:
        if preset not in PRESETS:
            close = difflib.get_close_matches(preset, list(PRESETS), n=1)
            hint = f"did you mean {close[0]!r}?" if close else f"choose one of {', '.join(PRESETS)}"
            raise UserError(f"unknown preset {preset!r} in --preset; {hint}")
        data = merge(data, PRESETS[preset])
        source = f"preset {preset!r}"
    if config_file is not None:
        data = merge(data, read_yaml_config(config_file))
        source = f"config file {config_file!r}"
    for override in overrides or []:
        data = merge(data, override)
    if overrides:
        source = f"{source} with command-line overrides" if source != "defaults" else "the command line"
    if scenario_defaults is not None:
        data = merge(scenario_defaults(str(data.get("scenario", SuiteConfig.scenario))), data)
    config = from_mapping(SuiteConfig, data, source=source)
    validate(config, source)
    return config


def validate(config: SuiteConfig, source: str) -> None:
    """Checks value ranges that types alone cannot express."""
    positive = {
        "orders": [] if config.orders == "all" else config.orders,
        "train.epochs": [config.train.epochs],
        "train.batch_size": [config.train.batch_size],
        "train.bucket_batches": [config.train.bucket_batches],
        "eval.batch_size": [config.eval.batch_size],
        "eval.ppl_context": [config.eval.ppl_context],
        "eval.ppl_batch_size": [config.eval.ppl_batch_size],
        "train.grad_accum_steps": [config.train.grad_accum_steps],
        "launch.jobs": [config.launch.jobs] if config.launch.jobs != "auto" else [],
    }
    for name, values in positive.items():
        if any(v < 1 for v in values):
            raise UserError(f"{source}: field {name!r} must be at least 1, got {values}; use a positive value")
    sizes = {"train_size": config.train_size, "test_size": config.test_size, "threads": config.threads, "launch.cpus_per_run": config.launch.cpus_per_run}
    for name, value in sizes.items():
        if value is not None and value < 1:
            raise UserError(f"{source}: field {name!r} must be at least 1, got {value}; use a positive value")
    counts = {"threads": config.threads, "launch.cpus_per_run": config.launch.cpus_per_run,
              "launch.jobs": config.launch.jobs if config.launch.jobs != "auto" else None}
    for name, value in counts.items():
        if value is not None and value > MAX_PROCESSES_OR_THREADS:
            raise UserError(f"{source}: field {name!r} is {value}, more than the {MAX_PROCESSES_OR_THREADS} any machine can use; give a smaller number")
    check_perplexity_budget(config.eval.ppl_tokens, config.eval.ppl_context, source)
    if not config.strategies:
        raise UserError(f"{source}: field 'strategies' is empty; name at least one strategy, e.g. --strategies naive")
    if not config.seeds:
        raise UserError(f"{source}: field 'seeds' is empty; give at least one seed, e.g. --seeds 0")
    config.train.check(source)
    check_weights(config.dtype, config.train.precision, source)
    check_names([config.model, *config.models, *config.strategies], source)
    check_applies(config.lm_eval != LmEvalConfig(), config.measures, source)
    _check_seeds_and_names(config, source)
    config.lm_eval.check(source)
    check_launch(config.launch.jobs, config.launch.launcher, config.launch.gpus_per_run, config.launch.ray_address, source)
    check_strategy_args(config.strategy_args, config.strategies, source)


def _check_seeds_and_names(config: SuiteConfig, source: str) -> None:
    """Seeds in the range every RNG takes, and no seed, strategy or order listed twice (one record each)."""
    bad = [s for s in config.seeds if not 0 <= s <= MAX_SEED]
    if bad:
        raise UserError(f"{source}: field 'seeds' holds {bad[0]}, but a seed must be from 0 to {MAX_SEED}; use a seed in that range")
    listed = {"seeds": config.seeds, "strategies": config.strategies, "models": config.models, "orders": [] if config.orders == "all" else config.orders}
    for name, values in listed.items():
        twice = sorted({v for v in values if values.count(v) > 1}, key=str)
        if twice:
            raise UserError(f"{source}: field {name!r} lists {twice[0]!r} twice; each run is recorded once, so list it once")


def to_dict(config: SuiteConfig) -> dict[str, Any]:
    """The config as plain JSON-able data (what a record stores)."""
    return dataclasses.asdict(config)
