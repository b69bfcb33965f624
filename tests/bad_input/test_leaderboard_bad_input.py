"""The leaderboard under bad records and bad output paths: every bad file is named, nothing is half-written."""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from pathlib import Path

import pytest

import leaderboard.drawing as drawing
from leaderboard.figures import write_figures
from benchmark.core.atomic_io import atomic_write
from benchmark.cli import main
from benchmark.core.errors import UserError
from benchmark.results.metrics import compute_metrics
from benchmark.results.records import RunRecord, write_record
from tests.unit.test_leaderboard_table import make_record


def consistent(record: RunRecord) -> RunRecord:
    """The record with the metrics its raw numbers give (what validate checks)."""
    record.metrics = compute_metrics(record.measures)
    return record


def results_with(tmp_path: Path, edit: Callable[[dict], object] | None = None, raw: str | None = None) -> Path:
    """Two valid records, plus one bad file ``bad.json`` made by ``edit`` (or holding ``raw``)."""
    folder = tmp_path / "results"
    write_record(folder, consistent(make_record("naive", 0, 0.8)))
    write_record(folder, consistent(make_record("ewc", 0, 0.85)))
    if edit is not None or raw is not None:
        data = make_record("replay", 0, 0.9).to_json()
        text = raw if raw is not None else json.dumps(edit(data) or data)
        (folder / "bad.json").write_text(text)
    return folder


def setter(key: str, value: object) -> Callable[[dict], None]:
    def edit(data: dict) -> None:
        section, _, field = key.partition(".")
        (data[section] if field else data)[field or key] = value
    return edit


def matrix_with_nan(data: dict) -> str:
    data["measures"]["accuracy"][2][0] = float("nan")
    return data


BAD_RECORDS: dict[str, tuple[Callable[[dict], object] | None, str | None, str]] = {
    "deeply nested JSON": (None, "[" * 100_000 + "]" * 100_000, "nests too deeply"),
    "null": (None, "null", "holds NoneType, not a JSON object"),
    "total_seconds that is text": (setter("total_seconds", "fast"), None, "field 'total_seconds' must be a number, got 'fast'"),
    "seed that is a list": (setter("seed", [0]), None, "field 'seed' must be an integer, got [0]"),
    "seed that is text": (setter("seed", "0"), None, "field 'seed' must be an integer, got '0'"),
    "NaN in the accuracy matrix": (matrix_with_nan, None, "field 'measures.accuracy[2][0]' must be a finite number, got nan"),
    "NaN metric": (setter("metrics.acc", float("nan")), None, "field 'metrics.acc' must be a finite number, got nan"),
    "infinite perplexity": (setter("measures.perplexity", [10.0, float("inf"), 12.0]), None, "field 'measures.perplexity[1]' must be a finite number"),
    "matrix of the wrong shape": (setter("measures.accuracy", [[0.5, 0.5]]), None, "accuracy_matrix must be 3 rows of 2 values"),
    "accuracy above one": (setter("measures.accuracy", [[0.5, 0.5], [0.9, 0.5], [0.8, 1.5]]), None, "not an accuracy in [0, 1]"),
    "unknown status": (setter("status", "done"), None, "status is 'done'"),
    "parameters that are text": (setter("parameters", "many"), None, "field 'parameters' must be a mapping"),
    "timings with a text step count": (setter("timings", [{"task": "a", "train_s": 1.0, "eval_s": 1.0, "ppl_s": 1.0, "steps": "4"}]), None, "field 'timings[0].steps' must be an integer"),
}


# Every bad record through the table; the page and the figures (slower to draw) with those that used to break them.
SKIPPED_BY = [([], case) for case in sorted(BAD_RECORDS)] + [
    (command, case) for command in (["page"], ["plots"])
    for case in ("total_seconds that is text", "seed that is a list", "NaN in the accuracy matrix", "matrix of the wrong shape", "null")
]


@pytest.mark.parametrize(("command", "case"), SKIPPED_BY, ids=[f"{c[0] if c else 'table'}-{case}" for c, case in SKIPPED_BY])
def test_a_bad_record_is_skipped_and_named(case: str, command: list[str], tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    edit, raw, message = BAD_RECORDS[case]
    folder = results_with(tmp_path, edit, raw)
    out = ["--out", str(tmp_path / ("figs" if command == ["plots"] else "board.out"))]
    assert main(["leaderboard", *command, "--results", str(folder), *out]) == 0
    err = capsys.readouterr().err
    assert err.startswith("left out 1 of 3 record file(s): bad.json (not a valid run record") and message in err, err
    if command == []:
        text = (tmp_path / "board.out").read_text()
        assert "naive" in text and "ewc" in text and "replay" not in text


@pytest.mark.parametrize("case", sorted(BAD_RECORDS))
def test_validate_names_every_bad_record(case: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    edit, raw, message = BAD_RECORDS[case]
    assert main(["leaderboard", "validate", "--results", str(results_with(tmp_path, edit, raw))]) == 1
    out = capsys.readouterr().out
    assert out.startswith("bad.json: ") and message in out and out.endswith("1 problem(s)\n"), out


def test_validate_refuses_an_empty_results_directory(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "empty").mkdir()
    assert main(["leaderboard", "validate", "--results", str(tmp_path / "empty")]) == 2
    err = capsys.readouterr().err
    assert "holds no run records (*.json); pass the --out directory of a run to --results" in err and err.count("\n") == 1


OUTPUTS: dict[str, tuple[list[str], Callable[[Path], Path], str]] = {
    "table --out naming a directory": ([], lambda d: (d / "somedir").mkdir() or d / "somedir", "it is a directory; name a file path instead"),
    "page --out naming a directory": (["page"], lambda d: (d / "somedir").mkdir() or d / "somedir", "it is a directory; name a file path instead"),
    "table --out naming a pipe": ([], lambda d: os.mkfifo(d / "pipe") or d / "pipe", "it is not a regular file; name a file path instead"),
    "page --out naming a pipe": (["page"], lambda d: os.mkfifo(d / "pipe") or d / "pipe", "it is not a regular file"),
    "plots --out naming a file": (["plots"], lambda d: (d / "f").write_text("x") and d / "f", "plots --out"),
    "unknown format": ([], lambda d: d / "t.docx", "argument --format: invalid choice: 'docx'"),
}


@pytest.mark.parametrize("case", sorted(OUTPUTS))
def test_a_bad_output_path_is_one_sentence_and_left_as_it_was(case: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    command, make_target, message = OUTPUTS[case]
    target = make_target(tmp_path)
    before = target.stat().st_mode if target.exists() else None
    extra = ["--format", "docx"] if case == "unknown format" else []
    assert main(["leaderboard", *command, "--results", str(results_with(tmp_path)), "--out", str(target), *extra]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: ") and err.count("\n") == 1 and message in err, err
    assert (target.stat().st_mode if target.exists() else None) == before  # still the directory, pipe or file it was


def test_a_pipe_in_a_strategy_name_does_not_add_a_markdown_column(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    folder = tmp_path / "results"
    write_record(folder, make_record("a|b", 0, 0.8))
    assert main(["leaderboard", "--results", str(folder)]) == 0
    lines = capsys.readouterr().out.splitlines()
    cells = [line.replace("\\|", "").count("|") for line in lines]
    assert len(set(cells)) == 1 and "a\\|b" in lines[2]  # every row has the header's column count


def test_a_figure_interrupted_mid_write_leaves_no_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """What a SIGKILL during savefig leaves: the old figure or nothing, never a 0-byte or partial file."""
    calls = {"n": 0}
    real = atomic_write

    def dying_write(path: Path, write: Callable, **kwargs: object) -> None:
        calls["n"] += 1
        if calls["n"] == 3:
            def partial(handle) -> None:  # noqa: ANN001
                handle.write(b"\x89PNG half")
                raise KeyboardInterrupt
            return real(path, partial, **kwargs)
        return real(path, write, **kwargs)

    monkeypatch.setattr(drawing, "atomic_write", dying_write)
    out = tmp_path / "figs"
    with pytest.raises(KeyboardInterrupt):
        write_figures([make_record("naive", 0, 0.8), make_record("ewc", 0, 0.8)], out)
    files = [p for p in out.iterdir()]
    assert len(files) == 2 and all(p.stat().st_size > 1000 for p in files)  # the two finished figures, whole
    assert not list(out.glob(".*"))  # no temporary file either


def test_output_errors_are_user_errors() -> None:
    with pytest.raises(UserError, match="it is a directory"):
        atomic_write(Path("/"), lambda handle: None)


def test_samples_of_records_without_free_text_outputs_is_one_sentence_and_writes_nothing(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    target = tmp_path / "samples.jsonl"
    assert main(["leaderboard", "samples", "--results", str(results_with(tmp_path)), "--out", str(target)]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: no record there stores free-text outputs") and err.count("\n") == 1, err
    assert not target.exists()
