"""Every mistake a user can make: one sentence naming the file/field and the fix, exit 2, nothing written."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

import pytest

import benchmark.engine.memory_guard as memory_guard
from benchmark.cli import main
from tests.conftest import smoke_args, write_toy_scenario


def write(path: Path, text: str | bytes) -> str:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(text) if isinstance(text, bytes) else path.write_text(text, encoding="utf-8")
    return str(path)


def scenario_with(d: Path, s: Path, old: str, new: str) -> list[str]:
    """A copy of the toy scenario with one edit."""
    text = s.read_text()
    assert old in text, old
    return ["--scenario", write(d / "edited.yaml", text.replace(old, new, 1))]


def csv_task(d: Path, s: Path, rows: str | bytes) -> list[str]:
    """The toy scenario with its first task reading ``rows`` (a CSV with text,label)."""
    data = write(d / "bad.csv", rows)
    return scenario_with(d, s, str(d / "toy" / "task1.csv"), data)


def config(d: Path, text: str) -> list[str]:
    return ["--config", write(d / "c.yaml", text)]


def fifo(path: Path) -> str:
    os.mkfifo(path)
    return str(path)


Case = tuple[Callable[[Path, Path], list[str]], str]
CASES: dict[str, Case] = {
    # names
    "unknown strategy": (lambda d, s: ["--strategies", "naiv"], "unknown strategy 'naiv' in --strategies; did you mean 'naive'?"),
    "unknown scenario": (lambda d, s: ["--scenario", "defualt"], "unknown scenario 'defualt' in --scenario; did you mean 'default'"),
    "unknown preset": (lambda d, s: ["--preset", "smok"], "unknown preset 'smok' in --preset; did you mean 'smoke'?"),
    "unknown model name": (lambda d, s: ["--model", "no-such-user/no-such-model"], "model 'no-such-user/no-such-model' is not a registered name"),
    "unknown loader": (lambda d, s: scenario_with(d, s, "loader: local_files", "loader: local_file"), "unknown loader 'local_file' in a scenario's source.loader; did you mean 'local_files'"),
    "unknown strategy argument": (lambda d, s: ["--set", "strategy_args.naive.alpha=1"], "strategy 'naive' does not take argument(s) ['alpha']"),
    "unknown config key": (lambda d, s: ["--config", write(d / "c.yaml", "sedes: [0]\n")], "unknown key 'sedes'; did you mean 'seeds'?"),
    "unknown scenario key": (lambda d, s: scenario_with(d, s, "    max_length: 24", "    max_len: 24"), "unknown key 'tasks[0].max_len'; did you mean 'tasks[0].max_length'?"),
    # files and syntax
    "malformed config yaml": (lambda d, s: ["--config", write(d / "c.yaml", "seeds: [0,\n")], "is not valid YAML at line"),
    "config not a mapping": (lambda d, s: ["--config", write(d / "c.yaml", "- naive\n")], "must hold a mapping of keys to values at the top level"),
    "missing config file": (lambda d, s: ["--config", str(d / "absent.yaml")], "config file"),
    "malformed scenario yaml": (lambda d, s: ["--scenario", write(d / "sc.yaml", "name: x\ntasks: [\n")], "is not valid YAML at line"),
    "bad --set syntax": (lambda d, s: ["--set", "train.lr"], "--set 'train.lr' must look like KEY=VALUE"),
    # types and values
    "wrong type": (lambda d, s: ["--epochs", "two"], "field 'train.epochs' must be an integer, got 'two'"),
    "wrong strategy argument type": (lambda d, s: ["--strategies", "ewc", "--set", "strategy_args.ewc.mode=sideways"], "field 'strategy_args.ewc.mode' must be one of 'separate', 'online', got 'sideways'"),
    "size below one": (lambda d, s: ["--train-size", "0"], "field 'train_size' must be at least 1"),
    "invalid eval_on": (lambda d, s: ["--set", "eval.eval_on=everything"], "field 'eval.eval_on' must be one of"),
    "order out of range": (lambda d, s: ["--order", "7"], "--order 7 does not exist"),
    "resume and overwrite": (lambda d, s: ["--resume", "--overwrite"], "--resume and --overwrite contradict each other"),
    "jobs without the local launcher": (lambda d, s: ["--launcher", "sequential", "--jobs", "2"], "launch.jobs is 2 but the launcher is 'sequential'; jobs apply to --launcher local"),
    "jobs below one": (lambda d, s: ["--jobs", "0"], "field 'launch.jobs' must be at least 1"),
    "ray address without ray": (lambda d, s: ["--ray-address", "auto"], "launch.ray_address is set but the launcher is 'sequential'; add --launcher ray"),
    "negative gpus per run": (lambda d, s: ["--launcher", "ray", "--gpus-per-run", "-1"], "field 'launch.gpus_per_run' must be 0 or more"),
    "accumulation below one": (lambda d, s: ["--grad-accum", "0"], "field 'train.grad_accum_steps' must be at least 1"),
    "fp16 loss scaling on half weights": (lambda d, s: ["--dtype", "bf16", "--mixed-precision", "fp16"], "--mixed-precision fp16 scales the loss, which needs float32 weights, but --dtype is bf16"),
    "unknown weight type": (lambda d, s: ["--set", "dtype=fp8"], "field 'dtype' must be one of"),
    "freezing every block": (lambda d, s: ["--freeze-layers", "2"], "--freeze-layers 2: model 'tiny' has 2 transformer blocks, so freeze fewer than 2"),
    "freezing a negative number of blocks": (lambda d, s: ["--freeze-layers", "-1"], "field 'train.freeze_layers' must be 0 (none) or a number of blocks, got -1"),
    "sharding with frozen layers": (lambda d, s: ["--sharding", "fsdp", "--freeze-layers", "1"], "--sharding fsdp with --freeze-layers has not been checked yet"),
    "sharding without a launch": (lambda d, s: ["--sharding", "fsdp"], "--sharding fsdp cuts the model over the processes of a launch, but this is one process; start it with `accelerate launch"),
    "unknown sharding": (lambda d, s: ["--set", "train.sharding=zero3"], "field 'train.sharding' must be one of"),
    "a strategy that adds modules to a sharded model": (
        lambda d, s: ["--sharding", "fsdp", "--strategies", "naive,lora", "--set", "strategy_args.lora.per_task=true"],
        "--sharding fsdp: strategy 'lora' does not run sharded yet; run it without --sharding",
    ),
    "per-task adapters sharded": (lambda d, s: ["--sharding", "fsdp", "--strategies", "adapters"], "--sharding fsdp: strategy 'adapters' does not run sharded yet"),
    "a measure not yet sharded": (lambda d, s: ["--sharding", "fsdp", "--measures", "accuracy,probe"], "--sharding fsdp: measure 'probe' does not run sharded yet; leave it out of --measures"),
    "generation sharded": (
        lambda d, s: ["--sharding", "fsdp", "--formulation", "text", "--decode", "greedy"],
        "--sharding fsdp runs the heads formulation and the text formulation with ranked answers; --formulation text --decode greedy",
    ),
    # scenario structure
    "missing required field": (lambda d, s: scenario_with(d, s, "version: 1\n", ""), "required field 'version' is missing"),
    "unknown task in an order": (lambda d, s: scenario_with(d, s, "  - [task1, task2, task3]", "  - [task1, task9, task3]"), "order 1 names unknown task(s) ['task9']"),
    "duplicate task names": (lambda d, s: scenario_with(d, s, "name: task2", "name: task1"), "task 'task1' is defined twice"),
    "label map to an unknown class": (lambda d, s: scenario_with(d, s, "labels: [neg, pos]", "labels: [neg, pos]\n    label_map: {n: negative}"), "label_map maps to ['negative'], which are not in labels"),
    # data
    "missing text column": (lambda d, s: scenario_with(d, s, "labels: [neg, pos]", "labels: [neg, pos]\n    text_field: sentence"), "column(s) ['sentence'] not found in the loaded data"),
    "label outside the label set": (lambda d, s: scenario_with(d, s, "labels: [neg, pos]", "labels: [neg, positive]"), "label(s) 'pos' in 'label' are not in labels ['neg', 'positive']"),
    "empty task": (lambda d, s: scenario_with(d, s, "labels: [neg, pos]", "labels: [neg, pos]\n    drop_labels: [neg, pos]"), "no examples are left after dropping labels and duplicates"),
    "split larger than the data": (lambda d, s: ["--train-size", "500"], "has 48 example(s) for the train split but needs 250"),
    "empty texts": (lambda d, s: csv_task(d, s, "text,label\n" + "".join(f"w{i} x,neg\nw{i} y,pos\n" for i in range(40)) + '"  ",neg\n'), "row(s) have an empty or non-text value in 'text'"),
    "undecodable text": (lambda d, s: csv_task(d, s, b"text,label\n" + b"".join(f"w{i} caf\xe9,neg\n".encode("latin-1") for i in range(5))), "is not valid utf-8 text"),
    "missing data file": (lambda d, s: scenario_with(d, s, str(d / "toy" / "task1.csv"), str(d / "toy" / "gone.csv")), "does not exist; pass --data-dir pointing at the folder that holds it"),
    "data dir is not a directory": (lambda d, s: ["--data-dir", str(d / "nowhere")], "--data-dir"),
    # environment
    "model path that does not exist": (lambda d, s: ["--model", "./no/such/model"], "model path './no/such/model' does not exist"),
    "model directory without a config": (lambda d, s: ["--model", str((d / "emptymodel").mkdir() or d / "emptymodel")], "has no config.json"),
    "unwritable results directory": (lambda d, s: ["--out", str(Path(write(d / "afile", "x")) / "results")], "is not writable; pass a writable directory to --out"),
    "source not available offline": (lambda d, s: ["--scenario", write(d / "amz.yaml", "name: amz\nversion: 1\ntasks:\n  - {use: amazon_full, train_size: 10, test_size: 5}\norders: [[amazon]]\n")], "is no longer available (amazon_reviews_multi was taken down"),
    "not enough memory": (lambda d, s: ["--set", "train.batch_size=8"], "of memory are available ('run_benchmark.py plan' with the same flags shows the parts); use a smaller --batch-size"),
    # non-finite and out-of-range numbers, refused before any training (a NaN used to train a whole run first)
    "nan warm-up ratio in a config": (lambda d, s: config(d, "train:\n  warmup_ratio: .nan\n"), "field 'train.warmup_ratio' must be a finite number, got nan"),
    "infinite weight decay in a config": (lambda d, s: config(d, "train:\n  weight_decay: .inf\n"), "field 'train.weight_decay' must be a finite number, got inf"),
    "infinite strategy argument": (lambda d, s: ["--strategies", "ewc", "--set", "strategy_args.ewc.ewc_lambda=.inf"], "field 'strategy_args.ewc.ewc_lambda' must be a finite number, got inf"),
    "nan learning rate as text": (lambda d, s: ["--set", "train.lr=nan"], "field 'train.lr' must be a finite number, got nan"),
    "negative infinite head lr": (lambda d, s: ["--set", "train.head_lr=-.inf"], "field 'train.head_lr' must be a finite number, got -inf"),
    "nan in an optional number": (lambda d, s: ["--set", "train.max_grad_norm=.nan"], "field 'train.max_grad_norm' must be a finite number, got nan"),
    "nan layer decay": (lambda d, s: ["--set", "train.layer_lr_decay=.nan"], "field 'train.layer_lr_decay' must be a finite number"),
    "nan warm-up ratio": (lambda d, s: ["--set", "train.warmup_ratio=.nan"], "field 'train.warmup_ratio' must be a finite number"),
    "nan gpus per run": (lambda d, s: ["--launcher", "ray", "--gpus-per-run", "nan"], "field 'launch.gpus_per_run' must be a finite number"),
    "nan strategy argument in a config": (lambda d, s: ["--strategies", "l2sp", *config(d, "strategy_args:\n  l2sp: {alpha: .nan}\n")], "field 'strategy_args.l2sp.alpha' must be a finite number"),
    "negative weight decay": (lambda d, s: ["--set", "train.weight_decay=-1"], "field 'train.weight_decay' must be 0 or more, got -1.0"),
    "negative gradient clipping norm": (lambda d, s: ["--set", "train.max_grad_norm=-1"], "field 'train.max_grad_norm' must be positive (or null for no clipping)"),
    "zero gradient clipping norm": (lambda d, s: ["--set", "train.max_grad_norm=0"], "field 'train.max_grad_norm' must be positive"),
    "negative perplexity tokens": (lambda d, s: ["--set", "eval.ppl_tokens=-5"], "field 'eval.ppl_tokens' must be 0 (no perplexity) or more"),
    "epochs beyond 64 bits": (lambda d, s: ["--epochs", "99999999999999999999999"], "field 'train.epochs' is 99999999999999999999999, which is too large"),
    "batch size beyond 64 bits": (lambda d, s: ["--set", "train.batch_size=99999999999999999999"], "field 'train.batch_size' is 99999999999999999999, which is too large"),
    "absurd number of epochs": (lambda d, s: config(d, "train:\n  epochs: 1000000000000000\n"), "optimizer steps per run (train.epochs 1000000000000000 x"),
    "fractional epochs": (lambda d, s: ["--epochs", "1.5"], "field 'train.epochs' must be an integer, got '1.5'"),
    # seeds, and names listed twice
    "negative seed": (lambda d, s: ["--seeds", "-1"], "field 'seeds' holds -1, but a seed must be from 0 to 4294967295"),
    "seed beyond 64 bits": (lambda d, s: ["--seeds", "99999999999999999999999"], "field 'seeds[0]' is 99999999999999999999999, which is too large"),
    "seed beyond 32 bits": (lambda d, s: ["--seeds", "4294967296"], "field 'seeds' holds 4294967296, but a seed must be from 0 to 4294967295"),
    "seed that is not a number": (lambda d, s: ["--seeds", "0,one"], "field 'seeds[1]' must be an integer, got 'one'"),
    "seed listed twice": (lambda d, s: ["--seeds", "0,0"], "field 'seeds' lists 0 twice; each run is recorded once"),
    "strategy listed twice": (lambda d, s: ["--strategies", "naive,naive"], "field 'strategies' lists 'naive' twice"),
    "order listed twice": (lambda d, s: ["--order", "1,1"], "field 'orders' lists 1 twice"),
    "strategy composed with itself": (lambda d, s: ["--strategies", "ewc+ewc"], "strategy 'ewc+ewc' composes 'ewc' twice"),
    "strategy arguments not a mapping": (lambda d, s: ["--set", "strategy_args.naive=5"], "field 'strategy_args.naive' must be a mapping, got 5"),
    "lora target module the model lacks": (lambda d, s: ["--strategies", "lora", "--set", "strategy_args.lora.target_modules=[nonexistent]"], "names 'nonexistent', which model 'tiny' does not have; its linear layers are ["),
    # YAML that PyYAML would silently half-read
    "key stated twice in a config": (lambda d, s: config(d, "train:\n  lr: 5.0e-4\nseeds: [0]\ntrain:\n  epochs: 1\n"), "is not valid YAML at line 4, column 1 (the key 'train' appears twice (first at line 1))"),
    "key stated twice in a scenario": (lambda d, s: scenario_with(d, s, "    max_length: 24", "    max_length: 24\n    max_length: 20"), "(the key 'max_length' appears twice"),
    "key stated twice in a --set value": (lambda d, s: ["--set", "train={lr: 1.0e-3, lr: 2.0e-3}"], "the key 'lr' appears twice (first at line 1); state each key once"),
    # scenario structure
    "empty task order": (lambda d, s: scenario_with(d, s, "  - [task1, task2, task3]", "  - []"), "order 1 is empty; list at least one task in every order"),
    "scenario name too long for a file name": (lambda d, s: scenario_with(d, s, "name: toy", "name: " + "x" * 300), "scenario name is 300 characters long; shorten it to at most 64"),
    "task name too long": (lambda d, s: scenario_with(d, s, "name: task1", "name: t" + "a" * 100), "and be at most 64 characters long"),
    # command line
    "unknown flag": (lambda d, s: ["--epoks", "2"], "unrecognized arguments: --epoks 2; see `forgetbench --help`"),
    "invalid flag choice": (lambda d, s: ["--setting", "sideways"], "argument --setting: invalid choice: 'sideways'"),
    "flag without its value": (lambda d, s: ["--seeds"], "argument --seeds: expected one argument"),
    # paths of the wrong kind
    "config that is a directory": (lambda d, s: ["--config", str(d)], "is a directory, not a file; pass an existing YAML file to --config"),
    "scenario that is a directory": (lambda d, s: ["--scenario", str(d / "toy")], "is a directory; pass a scenario YAML file or a registered name"),
    "results directory that is a file": (lambda d, s: ["--out", write(d / "plain-file", "x")], "exists and is not a directory; pass a directory"),
    "results directory that is a pipe": (lambda d, s: ["--out", fifo(d / "pipe")], "exists and is not a directory"),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_bad_input_is_one_sentence_exit_2_and_nothing_written(case: str, tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    if case == "not enough memory":
        monkeypatch.setattr(memory_guard, "available_memory_bytes", lambda: 1_000_000)
    scenario = write_toy_scenario(tmp_path / "toy")
    make_args, message = CASES[case]
    out_dir = tmp_path / "results"
    args = smoke_args(scenario, out_dir) + make_args(tmp_path, scenario)
    assert main(args) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: ") and err.count("\n") == 1, err
    assert message in err, err
    assert nothing_written(out_dir)


def refused_in_one_sentence(case: Case, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """Runs a case (its arguments on top of a toy smoke run) and requires one sentence with its message, exit 2, nothing written."""
    scenario = write_toy_scenario(tmp_path / "toy")
    make_args, message = case
    out_dir = tmp_path / "results"
    assert main(smoke_args(scenario, out_dir) + make_args(tmp_path, scenario)) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: ") and err.count("\n") == 1, err
    assert message in err, err
    assert nothing_written(out_dir)


def nothing_written(out_dir: Path) -> bool:
    """No record, checkpoint, cache entry or temporary file (empty folders aside)."""
    return not out_dir.exists() or not [p for p in out_dir.rglob("*") if not p.is_dir()]
