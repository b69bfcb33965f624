"""The leaderboard's output folders and messages: a read-only target is one sentence, killed writers leave nothing
behind for long, and ordinary records print no warnings."""

from __future__ import annotations

import errno
import os
import subprocess
import sys
import warnings
from pathlib import Path

import pytest

from benchmark.cli import main
from benchmark.core.atomic_io import TEMP_SUFFIX, _host_tag
from benchmark.results.records import write_record
from leaderboard.figures import write_figures
from tests.unit.test_leaderboard_table import make_record


def records() -> list:
    """Two strategies, one with a cell not evaluated (None in the matrix: all-NaN slices in the figures' means)."""
    return [make_record("naive", 0, 0.8), make_record("naive", 1, 0.7), make_record("ewc", 0, 0.85, None)]


def dead_writer_temp(folder: Path, target: str) -> Path:
    """A temporary file as atomic_write names it, of a process of this host that has exited (killed mid-write)."""
    child = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True, check=True)
    path = folder / f".{target}.{_host_tag()}-{int(child.stdout)}.abc123{TEMP_SUFFIX}"
    folder.mkdir(parents=True, exist_ok=True)
    path.write_bytes(b"")
    return path


@pytest.mark.parametrize("command", [["plots", "--no-heatmaps"], ["page"], []], ids=["plots", "page", "table"])
def test_stale_temp_files_of_killed_writers_are_removed_and_a_live_ones_kept(tmp_path: Path, command: list[str]) -> None:
    for record in records():
        write_record(tmp_path / "results", record)
    out = tmp_path / "figs" if command and command[0] == "plots" else tmp_path / "out" / "board.txt"
    folder = out if command and command[0] == "plots" else out.parent
    stale = dead_writer_temp(folder, "tasks_toy_o1.png")
    live = folder / f".x.png.{_host_tag()}-{os.getpid()}.def456{TEMP_SUFFIX}"  # this process: still writing
    live.write_bytes(b"")
    assert main(["leaderboard", *command, "--results", str(tmp_path / "results"), "--out", str(out)]) == 0
    assert not stale.exists() and live.exists()


def test_plots_on_a_read_only_file_system_is_one_sentence(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    for record in records():
        write_record(tmp_path / "results", record)

    def read_only(self: Path, *args: object, **kwargs: object) -> None:
        raise OSError(errno.EROFS, "Read-only file system", str(self))

    monkeypatch.setattr(Path, "mkdir", read_only)
    assert main(["leaderboard", "plots", "--results", str(tmp_path / "results"), "--out", str(tmp_path / "ro" / "figs")]) == 2
    err = capsys.readouterr().err
    assert err == f"error: cannot write figures to {str(tmp_path / 'ro' / 'figs')!r} (Read-only file system); pass a writable folder to --out\n"


@pytest.mark.slow
def test_figures_and_the_page_of_ordinary_records_print_no_warning(tmp_path: Path) -> None:
    from leaderboard.aggregate import aggregate, sort_rows
    from leaderboard.page import build_page

    with warnings.catch_warnings():
        warnings.simplefilter("error")  # numpy's "Mean of empty slice" used to print for every unevaluated cell
        assert write_figures(records(), tmp_path / "figs", heatmaps=True)
        assert "<table" in build_page(sort_rows(aggregate(records(), ci=True), "acc"), records(), ci=True, title="t")


def test_compare_help_shows_a_plain_percent_sign(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        main(["leaderboard", "compare", "--help"])
    out = capsys.readouterr().out
    assert "95% bootstrap" in out and "%%" not in out


HOSTILE = ["<script>alert(1)</script>", "<img src=x onerror=alert(1)>", "\x1b[31mred\x1b[0m", "a|b"]


@pytest.mark.parametrize("name", HOSTILE, ids=["script", "img", "ansi", "pipe"])
def test_markdown_and_the_terminal_get_names_escaped(name: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from leaderboard.formats import markdown_escape

    escaped = markdown_escape(name)
    assert "<" not in escaped and "\x1b" not in escaped and "|" not in escaped.replace("\\|", "")
    record = make_record("naive", 0, 0.8)
    record.model = name.replace("\x1b", "")  # a record may not hold control characters (validate refuses them), HTML it may
    other = make_record("ewc", 0, 0.85)
    other.model = record.model
    for each in (record, other):
        write_record(tmp_path / "results", each)
    assert main(["leaderboard", "--results", str(tmp_path / "results")]) == 0
    assert main(["leaderboard", "compare", "--results", str(tmp_path / "results")]) == 0
    out = capsys.readouterr().out
    assert "<script" not in out and "<img" not in out


def test_a_record_with_a_control_character_in_a_name_is_refused_and_shown_escaped(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    write_record(tmp_path / "results", make_record("naive", 0, 0.8))
    bad = make_record("ewc", 0, 0.85)
    bad.strategy = "ewc\x1b[2J"
    write_record(tmp_path / "results", bad)
    assert main(["leaderboard", "validate", "--results", str(tmp_path / "results")]) == 1
    out = capsys.readouterr().out
    assert "field 'strategy' holds a control character ('ewc\\x1b[2J')" in out and "\x1b" not in out
    assert main(["leaderboard", "--results", str(tmp_path / "results")]) == 0
    captured = capsys.readouterr()
    assert "left out 1 of 2 record file(s)" in captured.err and "\x1b" not in captured.err + captured.out


def test_a_model_name_with_a_control_character_is_refused_in_one_escaped_sentence(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--preset", "smoke", "--model", "./m\x1b[2Jx", "--out", str(tmp_path / "out")]) == 2
    err = capsys.readouterr().err
    assert "the name './m\\x1b[2Jx' holds a control character" in err and "\x1b" not in err and err.count("\n") == 1
    assert not (tmp_path / "out").exists()
