"""One helper checks a plug-in's keyword arguments: strategies, loaders and the Avalanche bridge refuse alike."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from benchmark.core.errors import UserError
from benchmark.core.keyword_arguments import checked_arguments, signature_of
from benchmark.engine.strategy_building import build_strategy
from scenarios.loaders import run_loader

SHAPE = r"^(strategy|loader) '[\w:]+' does not take argument\(s\) \['\w+'\] \(in [\w.:]+ of .+\); it accepts .+$"


def test_a_strategy_and_a_loader_refuse_an_unknown_argument_in_one_sentence_of_one_shape(tmp_path: Path) -> None:
    with pytest.raises(UserError) as strategy:
        build_strategy("ewc", {"ewc": {"lamda": 1.0}})
    with pytest.raises(UserError) as loader:
        run_loader("local_files", {"path": str(tmp_path / "x.csv"), "sep": ";"}, data_dir=None, where="scenario 'toy' task 'a'")
    for error in (strategy.value, loader.value):
        assert re.match(SHAPE, str(error)), str(error)
    assert "'ewc_lambda'" in str(strategy.value)


def test_values_are_converted_to_the_parameters_hints() -> None:
    def loader(*, path: str, limit: int = 0, data_dir: Path | None = None) -> None: ...

    accepted, hints = signature_of(loader, skip=("data_dir",))
    assert accepted == ["path", "limit"]
    assert checked_arguments({"limit": "3"}, accepted, hints, owner="loader 'x'", field="source.args", source="s") == {"limit": 3}
    with pytest.raises(UserError, match="source.args.limit"):
        checked_arguments({"limit": "three"}, accepted, hints, owner="loader 'x'", field="source.args", source="s")
