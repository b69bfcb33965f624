"""Suite configuration: precedence, typing, and one-sentence errors."""

from __future__ import annotations

from pathlib import Path

import pytest

from benchmark.core.config import PRESETS, parse_set_option
from benchmark.suite.config import build_config
from benchmark.core.errors import UserError


def test_precedence_defaults_preset_file_flags(tmp_path: Path) -> None:
    config_file = tmp_path / "suite.yaml"
    config_file.write_text("model: from-file\ntrain: {epochs: 3, lr: 0.01}\nseeds: [4, 5]\n")
    config = build_config(preset="smoke", config_file=str(config_file), overrides=[{"train": {"lr": "0.5"}}])
    assert config.model == "from-file"  # file beats preset
    assert config.train.epochs == 3
    assert config.train.lr == 0.5  # flags beat the file, and strings are typed
    assert config.train_size == PRESETS["smoke"]["train_size"]  # preset beats defaults
    assert config.seeds == [4, 5]
    assert config.train.batch_size == 16  # untouched default


def test_comma_lists_from_the_command_line() -> None:
    config = build_config(overrides=[{"seeds": "0,1,2", "strategies": "naive, naive+naive", "orders": "2"}])
    assert config.seeds == [0, 1, 2]
    assert config.strategies == ["naive", "naive+naive"]
    assert config.orders == [2]


def test_set_option_parses_nested_yaml_values() -> None:
    # YAML reads "1e-4" as a string; the typed checker turns it into the float the field wants.
    assert build_config(overrides=[parse_set_option("train.lr=1e-4")]).train.lr == 1e-4
    assert parse_set_option("strategy_args.ewc.ewc_lambda=10") == {"strategy_args": {"ewc": {"ewc_lambda": 10}}}
    with pytest.raises(UserError, match="KEY=VALUE"):
        parse_set_option("train.lr")


@pytest.mark.parametrize(
    ("override", "message"),
    [
        ({"train": {"lr": "fast"}}, "field 'train.lr' must be a number, got 'fast'"),
        ({"train": {"epocs": 2}}, "unknown key 'train.epocs'; did you mean 'train.epochs'"),
        ({"seeds": "zero"}, r"field 'seeds\[0\]' must be an integer"),
        ({"setting": "online"}, "field 'setting' must be one of 'task_incremental', 'class_incremental'"),
        ({"train": {"epochs": 0}}, "'train.epochs' must be at least 1"),
        ({"strategies": []}, "'strategies' is empty"),
        ({"strategy_args": {"replay": {}}}, "strategy_args names \\[.replay.\\]"),
        ({"train": 5}, "train must be a mapping"),
    ],
)
def test_bad_values_are_one_sentence_errors(override: dict, message: str) -> None:
    with pytest.raises(UserError, match=message) as info:
        build_config(overrides=[override])
    assert "\n" not in str(info.value)


def test_malformed_yaml_names_the_line(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text("train:\n  lr: [1, 2\n")
    with pytest.raises(UserError, match=r"is not valid YAML at line \d+, column \d+"):
        build_config(config_file=str(bad))


def test_missing_config_file_and_unknown_preset() -> None:
    with pytest.raises(UserError, match="does not exist"):
        build_config(config_file="/nonexistent/suite.yaml")
    with pytest.raises(UserError, match="did you mean 'smoke'"):
        build_config(preset="smok")


def test_every_choice_flag_offers_exactly_the_configs_values() -> None:
    """A flag with fixed choices offers what the config accepts (--decode once offered only rank and greedy)."""
    import typing

    from benchmark.cli import run_parser
    from benchmark.core.config import SuiteConfig

    hints = typing.get_type_hints(SuiteConfig)
    checked = 0
    for action in run_parser()._actions:
        if action.choices is None or action.dest not in hints:
            continue
        allowed = {a for arg in typing.get_args(hints[action.dest]) for a in (typing.get_args(arg) or [arg]) if isinstance(a, str)}
        if allowed:
            assert set(action.choices) == allowed, action.dest
            checked += 1
    assert checked >= 3
