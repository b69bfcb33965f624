"""`run_benchmark.py plan`: a run's flags in, each process's memory out, with no weights read."""

from __future__ import annotations

import pytest

import benchmark.model.meta_model as meta_model
from benchmark.cli import main


def plan(capsys: pytest.CaptureFixture[str], *flags: str) -> tuple[int, str, str]:
    status = main(["plan", *flags])
    captured = capsys.readouterr()
    return status, captured.out, captured.err


def rows(text: str) -> dict[str, list[str]]:
    """The table's cells by part name."""
    table = [line.strip("|").split("|") for line in text.splitlines() if line.startswith("|") and not line.startswith("|--")]
    return {cells[0].strip(): [c.strip() for c in cells[1:]] for cells in table}


def test_an_8b_model_sharded_over_8_processes_is_planned_without_reading_weights(capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(meta_model, "load_backbone", lambda *a, **k: pytest.fail("a shipped architecture must not be loaded"))
    status, out, err = plan(capsys, "--model", "llama-3.1-8b", "--dtype", "bf16", "--strategies", "naive,lora", "--device", "cuda", "--shards", "8")
    assert status == 0, err
    assert "llama-3.1-8b (8,030,261,248 parameters), bf16 weights" in out and "8 shard(s)" in out
    cells = rows(out)
    assert cells["pretrained copy (host)"] == ["14.96", "14.96"]  # 8,030,261,248 x 2 bytes, whole on every process's host
    assert cells["weights"] == ["1.87", "1.87"]  # an eighth
    assert cells["optimizer state"] == ["3.74", "0.00"]  # LoRA leaves the backbone's Adam state out


def test_a_bad_shard_count_and_an_unknown_model_are_one_sentence_each(capsys: pytest.CaptureFixture[str]) -> None:
    status, out, err = plan(capsys, "--shards", "0")
    assert (status, out) == (2, "") and err == "error: --shards must be at least 1, got 0; give the number of processes\n"
    status, out, err = plan(capsys, "--model", "no-such-org/no-such-model")
    assert status == 2 and out == "" and err.count("\n") == 1 and "is not a shipped architecture" in err
