"""Processes and files a crash leaves behind: workers die with their driver, stale temp files are removed,
and a run resumes only with the thread count its numbers depend on."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from benchmark.core.atomic_io import _host_tag
from tests.conftest import write_toy_scenario
from tests.processes.test_resume import ROOT, command, in_process, record, run

pytestmark = pytest.mark.slow  # starts processes or loads a real model: not in `make test-fast`

COMPARED = ("measures", "metrics")


def session_members(sid: int) -> list[int]:
    """Pids of the live (non-zombie) processes of session ``sid``."""
    members = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        state, session = fields[0], int(fields[3])
        if session == sid and state != "Z":
            members.append(int(entry.name))
    return members


def children_of(pid: int) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                if int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1]) == pid:
                    found.append(int(entry.name))
            except OSError:
                continue
    return found


def test_killing_the_driver_of_a_local_pool_leaves_no_worker_alive(tmp_path: Path) -> None:
    scenario = write_toy_scenario(tmp_path / "toy")
    cmd = command(scenario, tmp_path / "out", "naive,ewc", "--jobs", "2", "--seeds", "0,1", "--set", "train.epochs=200")
    env = {**os.environ, "PYTHONPATH": str(ROOT), "FORGETBENCH_CACHE": str(tmp_path / "cache")}
    driver = subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    try:
        deadline = time.monotonic() + 120
        while len([c for c in children_of(driver.pid) if "spawn_main" in Path(f"/proc/{c}/cmdline").read_text(errors="ignore")]) < 2:
            assert driver.poll() is None and time.monotonic() < deadline, "the pool never started two workers"
            time.sleep(0.5)
        time.sleep(8)  # the workers are importing torch or training by now
        assert len(session_members(driver.pid)) >= 3  # driver, two workers (and a resource tracker)
        driver.send_signal(signal.SIGKILL)
        driver.wait()
        deadline = time.monotonic() + 10
        while session_members(driver.pid) and time.monotonic() < deadline:
            time.sleep(0.25)
        assert session_members(driver.pid) == [], "processes outlived their driver by 10 s"
    finally:
        for pid in session_members(driver.pid):
            os.kill(pid, signal.SIGKILL)


def test_a_rerun_removes_the_temp_files_of_killed_writers_only(tmp_path: Path) -> None:
    scenario = write_toy_scenario(tmp_path / "toy")
    out = tmp_path / "out"
    row0 = out / ".cache" / "row0"
    row0.mkdir(parents=True)
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True).stdout.strip()
    stale = row0 / f".x.json.{_host_tag()}-{dead}.abcdefgh.tmp"
    live = row0 / f".y.json.{_host_tag()}-{os.getpid()}.abcdefgh.tmp"  # a writer that is still at work
    foreign = row0 / f".z.json.00000000-{dead}.abcdefgh.tmp"  # another host's, on a shared file system
    for path in (stale, live, foreign):
        path.write_text("partial")
    assert run(command(scenario, out, "naive"), cache=tmp_path / "cache").returncode == 0
    assert not stale.exists() and live.exists() and foreign.exists()


def test_a_checkpoint_resumes_only_with_the_thread_count_it_was_made_with(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    # Only the killed run needs a process of its own; the others go through the CLI's entry point here.
    scenario = write_toy_scenario(tmp_path / "toy")
    cache = tmp_path / "cache"
    threads = lambda n: ["--threads", str(n)]  # noqa: E731
    assert in_process(command(scenario, tmp_path / "reference", "naive") + threads(2)) == 0
    out = tmp_path / "out"
    killed = run(command(scenario, out, "naive") + threads(2), fault="task2:checkpointed", cache=cache)
    assert killed.returncode == -signal.SIGKILL
    capsys.readouterr()
    assert in_process(command(scenario, out, "naive") + threads(1)) == 2
    refused = capsys.readouterr().err
    assert refused.count("\n") == 1, refused
    assert "made with 2 torch thread(s) but this process has 1, which would change its numbers; pass --threads 2" in refused
    assert not list(out.glob("*.json"))
    assert in_process(command(scenario, out, "naive") + threads(2)) == 0
    again, expected = record(out), record(tmp_path / "reference")
    assert again["extra"]["resumed_from_task"] == 2
    assert all(again[k] == expected[k] for k in COMPARED)  # bit-identical with the uninterrupted run
