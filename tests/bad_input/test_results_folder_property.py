"""Property: whatever a results folder holds (copies, backups, tampered numbers, damaged outcomes, hostile names, files
that are no records), every leaderboard command either answers (exit 0) using each valid run exactly once and naming,
in one line, every file it left out, or refuses in one line (exit 2). Never a traceback, never a left-out number shown.

Hypothesis draws from a fixed seed (``derandomize``), so CI sees the same folders every time.
"""

from __future__ import annotations

import pytest

import contextlib
import io
import json
import shutil
import tempfile
from pathlib import Path

from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from benchmark.cli import main
from benchmark.results.outcomes import encode
from benchmark.results.records import RunRecord, write_record
from tests.unit.test_leaderboard_table import make_record

STRATEGIES = ["naive", "ewc", "l2sp"]


def with_outcomes(record: RunRecord) -> RunRecord:
    """The record with per-example outcomes that reproduce its accuracy matrix (10 test examples per task)."""
    gold = [0, 1] * 5
    rows = []
    for row in record.measures["accuracy"]:
        rows.append([None if v is None else encode(gold, [g if k < round(v * 10) else 1 - g for k, g in enumerate(gold)]) for v in row])
    record.measures["outcomes"] = rows
    record.measures["accuracy"] = [[None if v is None else round(v * 10) / 10 for v in row] for row in record.measures["accuracy"]]
    from benchmark.results.metrics import compute_metrics

    record.metrics = compute_metrics(record.measures)
    return record


def damage(kind: str, folder: Path, names: list[str]) -> str | None:
    """Applies one kind of damage to the folder; returns the file it made invalid or redundant (None: nothing left out)."""
    target = folder / names[0]
    data = json.loads(target.read_text())
    if kind == "copy":
        shutil.copy(target, folder / f"{target.stem} (copy).json")
        return f"{target.stem} (copy).json"
    if kind == "backup":
        (folder / "backup").mkdir(exist_ok=True)
        shutil.copy(target, folder / "backup" / target.name)
        return f"backup/{target.name}"
    if kind == "tampered metric":
        data["metrics"]["acc"] = 0.99
    elif kind == "truncated outcome":
        data["measures"]["outcomes"][-1][0] = data["measures"]["outcomes"][-1][0][:-4]
    elif kind == "null outcome row":
        data["measures"]["outcomes"][-1] = None
    elif kind == "changed gold":
        data["measures"]["outcomes"][-1][0] = encode([1, 0] * 5, [1, 0] * 5)
    elif kind == "control character":
        data["strategy"] = data["strategy"] + "\x1b[2J"
    elif kind == "not json":
        target.write_text("{\"schema_version\": 4, ")
        return target.name
    elif kind == "html name":
        data["model"] = "<script>alert(1)</script>"
        target.write_text(json.dumps(data))
        return None
    target.write_text(json.dumps(data))
    return target.name


DAMAGE = ["copy", "backup", "tampered metric", "truncated outcome", "null outcome row", "changed gold", "control character", "not json", "html name"]
COMMANDS = [["--format", "md"], ["--format", "html"], ["--format", "latex"], ["--format", "json"], ["compare"], ["page"]]


@settings(max_examples=40, derandomize=True, deadline=None, suppress_health_check=list(HealthCheck), database=None)
@given(
    runs=st.lists(st.tuples(st.sampled_from(STRATEGIES), st.integers(0, 2), st.sampled_from([0.6, 0.7, 0.8, 0.9])), min_size=0, max_size=5,
                  unique_by=lambda run: run[:2]),
    damages=st.lists(st.tuples(st.sampled_from(DAMAGE), st.integers(0, 4)), max_size=3),
    command=st.sampled_from(COMMANDS),
)
@pytest.mark.slow
def test_any_results_folder_is_read_cleanly_or_refused_in_one_line(runs: list, damages: list, command: list[str]) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp) / "results"
        folder.mkdir()
        names = [write_record(folder, with_outcomes(make_record(s, seed, acc))).name for s, seed, acc in runs]
        left_out: set[str] = set()
        touched: set[str] = set()  # damaged once already (a copy's original too: damaging it later would make the copy the kept one)
        for kind, index in damages:
            usable = [n for n in names if n not in touched]
            if usable:
                chosen = usable[index % len(usable):] + usable[: index % len(usable)]
                made = damage(kind, folder, chosen)
                touched.add(chosen[0])
                left_out |= {made} if made else set()
        stdout, stderr = io.StringIO(), io.StringIO()
        out = Path(tmp) / "out.txt"
        args = ["leaderboard", *([] if command[0].startswith("--") else command[:1]), "--results", str(folder), "--out", str(out)]
        args += command if command[0].startswith("--") else []
        with contextlib.redirect_stdout(stdout), contextlib.redirect_stderr(stderr):
            status = main(args)  # a traceback fails the test right here
        err = stderr.getvalue()
        event(f"exit {status}")
        assert "\x1b" not in err + stdout.getvalue()
        if status == 2:
            assert err.startswith("error: ") and err.count("\n") == 1, err
            assert not out.exists()
            return
        assert status == 0, err
        text = out.read_text()
        assert "\x1b" not in text
        if command not in (["--format", "latex"], ["--format", "json"]):  # markdown and HTML render inline HTML; LaTeX shows it as text, JSON is data
            assert "<script>alert" not in text
        if left_out:
            assert err.startswith(f"left out {len(left_out)} of ") and err.count("\n") == 1, (err, left_out)
            for name in left_out:
                assert name in err
        else:
            assert err == "", err
        if command == ["--format", "json"]:
            kept = {s for (s, seed, _), n in zip(runs, names) if n not in left_out}
            rows = json.loads(text)
            assert {row["strategy"] for row in rows} == kept
            counted = {row["strategy"]: row["n"] for row in rows}
            for strategy in kept:
                assert counted[strategy] == sum(1 for (s, _, _), n in zip(runs, names) if s == strategy and n not in left_out)
