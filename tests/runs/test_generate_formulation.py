"""Free-text tasks end to end on the tiny model: frozen equals row 0, naive learns, validate rescores every output, TRACE's layout."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from benchmark.cli import main
from benchmark.results.generations import decode_generations, decode_references, encode_generations
from benchmark.results.records import RunRecord
from leaderboard.validate import validate_results
from tests.conftest import run_toy_suite, write_free_text_scenario

TRACE_DATA = Path(__file__).resolve().parents[3] / "shared" / "data"
BUDGET = {"train": {"epochs": 3, "lr": 3e-3}, "eval": {"ppl_tokens": 0}}

pytestmark = pytest.mark.slow


def test_frozen_gives_every_row_equal_to_row_0_outputs_included(tmp_path: Path) -> None:
    scenario = write_free_text_scenario(tmp_path / "s")
    record = run_toy_suite(scenario, tmp_path / "out", "frozen", BUDGET).record
    accuracy, generations = record.measures["accuracy"], record.measures["generations"]
    assert record.config["formulation"] == "generate" and record.config["decode"] == "greedy"  # the scenario's formulation
    for row in range(1, len(accuracy)):
        assert accuracy[row] == accuracy[0] and generations[row] == generations[0]


def test_naive_learns_a_free_text_task_and_its_cells_are_the_mean_scores(tmp_path: Path) -> None:
    scenario = write_free_text_scenario(tmp_path / "s", metrics=("exact_match", "rouge_l"))
    record = run_toy_suite(scenario, tmp_path / "out", "naive", BUDGET).record
    accuracy, generations = record.measures["accuracy"], record.measures["generations"]
    assert accuracy[1][0] > accuracy[0][0] + 0.3  # learned: exact match of the class phrase, from none zero-shot
    for i, row in enumerate(generations):
        for j, cell in enumerate(row):
            if cell is not None:
                assert decode_generations(cell).accuracy == pytest.approx(accuracy[i][j], abs=1e-12)
    assert record.metrics["acc"] is not None and record.metrics["bwt"] is not None
    assert record.metrics["forget_events"] is not None and record.metrics["relearn_events"] is not None  # read from the outputs' scores


def check_samples_export(results: Path, record: RunRecord, out: Path) -> None:
    """``leaderboard samples`` writes one line per stored output, with its references, score and prompt."""
    assert main(["leaderboard", "samples", "--results", str(results), "--out", str(out)]) == 0
    lines = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    cells = [(i, j, decode_generations(c)) for i, row in enumerate(record.measures["generations"]) for j, c in enumerate(row) if c is not None]
    assert len(lines) == sum(len(g.outputs) for _, _, g in cells)
    references = {t: decode_references(record.extra["references"][t]) for t in record.tasks}
    for line in lines:
        got = next(g for i, j, g in cells if i == line["row"] and record.tasks[j] == line["task"])
        k = line["example_id"]
        assert line["output"] == got.outputs[k] and line["score"] == got.scores[k] and line["correct"] == (got.scores[k] >= got.correct_at)
        assert line["references"] == references[line["task"]].references[k] and line["run"] == record.run_id
        assert line["prompt_id"] == record.extra["prompts"][line["task"]] and line["data_hash"] == record.data_hashes[line["task"]]


def test_validate_rescores_every_output_and_names_a_tampered_cell(tmp_path: Path) -> None:
    scenario = write_free_text_scenario(tmp_path / "s")
    record = run_toy_suite(scenario, tmp_path / "out", "naive", BUDGET).record
    assert validate_results(tmp_path / "out") == []
    check_samples_export(tmp_path / "out", record, tmp_path / "samples.jsonl")
    path = next((tmp_path / "out").glob("*.json"))
    data = json.loads(path.read_text())
    cell = decode_generations(data["measures"]["generations"][1][0])
    outputs = ["freetoy answer that is wrong"] + cell.outputs[1:]  # one output changed, its stored score kept
    data["measures"]["generations"][1][0] = encode_generations(outputs, cell.scores)
    path.write_text(json.dumps(data))
    problems = validate_results(tmp_path / "out")
    assert any("generations of task 'gen1' at row 1" in p for p in problems), problems


@pytest.mark.skipif(not (TRACE_DATA / "trace" / "FOMC" / "train.json").is_file(), reason="../shared/data/trace is not beside the checkout")
def test_trace_fomc_reads_in_traces_layout_and_runs_with_traces_prompt(tmp_path: Path) -> None:
    yaml = tmp_path / "fomc.yaml"
    yaml.write_text(
        "name: fomc\nversion: 1\nformulation: generate\nprompt: '{text}'\ntasks:\n"
        "  - name: FOMC\n    source: {loader: trace, args: {task: FOMC, root: trace}}\n    text_field: prompt\n    answer_field: answer\n"
        "    metric: accuracy\n    train_size: 24\n    test_size: 12\n    max_length: 96\norders:\n  - [FOMC]\n",
        encoding="utf-8",
    )
    record = run_toy_suite(yaml, tmp_path / "out", "naive", BUDGET, {"data_dir": str(TRACE_DATA)}).record
    assert record.status == "finished" and record.tasks == ["FOMC"]
    references = record.extra["references"]["FOMC"]
    assert {r[0] for r in decode_references(references).references} <= {"dovish", "hawkish", "neutral"}
