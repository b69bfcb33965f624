"""Property: whatever config, ``--set`` overrides and small scenario file a user writes, the harness either
runs (exit 0 with records that ``leaderboard validate`` accepts; exit 1 only with a failed-run record) or
refuses (exit 2, one line naming what is wrong, nothing written). Never a traceback, never a partial file.

Hypothesis draws the inputs from a fixed seed (``derandomize``), so CI sees the same examples every time.
"""

from __future__ import annotations

import pytest

import contextlib
import io
import tempfile
from pathlib import Path
from typing import Any

import yaml
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from benchmark.core.config import merge, nested_override
from benchmark.results.records import read_record, record_files
from benchmark.cli import main
from leaderboard.validate import validate_results
from tests.conftest import write_toy_scenario
from tests.bad_input.test_bad_input import nothing_written

FIELDS = [
    "train.epochs", "train.lr", "train.head_lr", "train.batch_size", "train.weight_decay", "train.max_grad_norm",
    "train.warmup_ratio", "train.schedule", "train.grad_accum_steps", "train.bucket_batches", "train.layer_lr_decay",
    "train.unfreeze_every", "eval.eval_on", "eval.batch_size", "eval.ppl_tokens", "eval.ppl_context", "seeds", "orders",
    "setting", "train_size", "test_size", "strategies", "threads", "strategy_args.ewc.ewc_lambda",
    "strategy_args.replay.buffer_size", "strategy_args.lora.r", "sedes", "train.lr_decay",
]
SCALARS = st.one_of(
    st.integers(-2, 4), st.integers(min_value=2**40, max_value=2**80), st.floats(allow_nan=True, allow_infinity=True),
    st.sampled_from([0.0, 1e-3, 0.5, 1.0, 1e30, -0.0]), st.booleans(), st.none(),
    st.sampled_from(["", "naive", "ewc", "lora", "replay", "l2sp+replay", "naive,ewc", "linear", "seen", "all", "1,2", "all", "x"]),
)
VALUES = st.one_of(SCALARS, st.lists(SCALARS, max_size=3), st.dictionaries(st.sampled_from(["lr", "a", "epochs"]), SCALARS, max_size=2))
# What a user who knows the field would write: most drawn values come from here, so valid runs are explored too.
PLAUSIBLE = {
    "train.epochs": st.integers(1, 2), "train.lr": st.sampled_from([1e-4, 3e-3, 0.1]), "train.head_lr": st.sampled_from([1e-3, 0.01]),
    "train.batch_size": st.integers(1, 16), "train.weight_decay": st.sampled_from([0.0, 0.01]), "train.max_grad_norm": st.sampled_from([None, 0.5, 1.0]),
    "train.warmup_ratio": st.sampled_from([0.0, 0.1, 0.5]), "train.schedule": st.sampled_from(["linear", "constant"]),
    "train.grad_accum_steps": st.integers(1, 3), "train.bucket_batches": st.integers(1, 4), "train.layer_lr_decay": st.sampled_from([None, 0.5, 1.0]),
    "train.unfreeze_every": st.integers(0, 3), "eval.eval_on": st.sampled_from(["seen_next", "seen", "all"]), "eval.batch_size": st.integers(1, 32),
    "eval.ppl_tokens": st.sampled_from([0, 64, 128]), "eval.ppl_context": st.sampled_from([8, 32]), "seeds": st.sampled_from([[0], [1, 2], "3"]),
    "orders": st.sampled_from([[1], [2], "all", "1,2"]), "setting": st.sampled_from(["task_incremental", "class_incremental"]),
    "train_size": st.integers(1, 24), "test_size": st.integers(1, 12),
    "strategies": st.sampled_from(["naive", "ewc", "l2sp", "replay", "lora", "adapters", "ewc+replay", "joint", "frozen", "naive,l2sp"]),
    "threads": st.integers(1, 2), "strategy_args.ewc.ewc_lambda": st.sampled_from([0.0, 1.0, 1e5]),
    "strategy_args.replay.buffer_size": st.integers(1, 20), "strategy_args.lora.r": st.integers(1, 4),
}


def value_for(field: str) -> st.SearchStrategy[Any]:
    """Three times in four a plausible value for ``field`` (where one is known), else anything."""
    plausible = PLAUSIBLE.get(field)
    return VALUES if plausible is None else st.sampled_from([True, True, True, False]).flatmap(lambda keep: plausible if keep else VALUES)


SETTINGS = st.lists(st.sampled_from(FIELDS).flatmap(lambda f: st.tuples(st.just(f), value_for(f))), max_size=3)
SCENARIO_EDITS = st.one_of(st.just({}), st.fixed_dictionaries({}, optional={
    "train_size": st.sampled_from([0, 1, 8, 16, 500, "ten"]),
    "test_size": st.sampled_from([0, 4, 8, 1000, 2.5]),
    "max_length": st.sampled_from([0, 4, 24, -1]),
    "orders": st.sampled_from([[], [[]], [["task1"]], [["task2", "task1"]], [["task1", "task1"]], [["nope"]], "task1", [[1]]]),
    "version": st.sampled_from([1, 2, "one", -1, None]),
    "name": st.sampled_from(["toy", "bad name", "x" * 80, "", 5]),
    "labels": st.sampled_from([["neg"], ["neg", "neg"], ["neg", "pos", "odd"], "neg,pos", [1, 2]]),
    # tasks posed as text: templates and answer sets a user could plausibly write
    "prompt": st.sampled_from(["{text} Answer:", "{text}\nOptions: {options}\nAnswer:", "", "  ", "{text:>50} A:", "{text:d}", "{text!r}",
                               "{text:{options}}", "no placeholder", "{text} {label}", "{text} " + "the " * 600, "{{literal}} {text}"]),
    "answers": st.sampled_from([{}, {"neg": "bad", "pos": "good"}, {"pos": None}, {"neg": "pos", "pos": "Pos."}, {"neg": "Good", "pos": "good"},
                                {"neg": "..."}, {"neg": "[PAD]"}, {"pos": "good [EOS]"}, {"neg": "yes ", "pos": "yes"}, {"odd": "x"}, {"neg": 5}]),
    "formulation": st.sampled_from(["heads", "text"]),
}))


def edited_scenario(base: Path, edits: dict[str, Any], folder: Path) -> Path:
    data = yaml.safe_load(base.read_text())
    for key, value in edits.items():
        if key in ("train_size", "test_size", "max_length", "labels", "prompt", "answers"):
            data["tasks"][0][key] = value
        elif key != "formulation":  # a command-line flag, not a scenario key
            data[key] = value
    path = folder / "scenario.yaml"
    path.write_text(yaml.safe_dump(data))
    return path


@settings(max_examples=50, derandomize=True, deadline=None, suppress_health_check=list(HealthCheck), database=None)
@given(
    in_file=SETTINGS,
    on_command_line=SETTINGS,
    scenario_edits=SCENARIO_EDITS,
)
@pytest.mark.slow
def test_any_input_runs_cleanly_or_is_refused_in_one_line(in_file: list, on_command_line: list, scenario_edits: dict) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        base = write_toy_scenario(folder / "toy", n_tasks=2, n_per_class=30, train_size=16, test_size=8)
        scenario = edited_scenario(base, scenario_edits, folder)
        config: dict[str, Any] = {}
        for path, value in in_file:
            config = merge(config, nested_override(path, value))
        (folder / "config.yaml").write_text(yaml.safe_dump(config))
        out = folder / "results"
        argv = [
            "--scenario", str(scenario), "--model", "tiny", "--out", str(out), "--no-progress", "--config", str(folder / "config.yaml"),
            "--set", "eval.ppl_tokens=128", "--set", "eval.ppl_context=32", "--set", "train.batch_size=8",
        ]
        for path, value in on_command_line:
            argv += ["--set", f"{path}={yaml.safe_dump(value, default_flow_style=True).strip().removesuffix('...').strip()}"]
        argv += ["--formulation", scenario_edits.get("formulation", "heads")]
        stdout, stderr = io.StringIO(), io.StringIO()
        with contextlib.redirect_stdout(stdout), contextlib.redirect_stderr(stderr):
            status = main(argv)  # a traceback fails the test right here
        err = stderr.getvalue()
        event(f"exit {status}")
        if status == 2:
            lines = [line for line in err.splitlines() if not line.startswith("note: ")]
            assert len(lines) == 1 and lines[0].startswith("error: "), err
            assert nothing_written(out), sorted(map(str, out.rglob("*")))
            return
        assert status in (0, 1), (status, err)
        assert validate_results(out) == [], validate_results(out)
        records = [read_record(p) for p in record_files(out)]
        assert records and (status == 0) == all(r.status == "finished" for r in records), err
        assert not list(out.rglob("*.tmp"))
