"""``--report-to``: TensorBoard, MLflow and W&B watch a run, read back with each library's own reader, and change nothing."""

from __future__ import annotations

import json
import signal
from pathlib import Path

import pytest
from benchmark.cli import main
from benchmark.core.errors import UserError
from benchmark.engine import tracking
from tests.conftest import smoke_args, write_toy_scenario
from tests.processes.test_resume import COMPARED, command, record, run

pytestmark = pytest.mark.slow  # whole runs, and a process killed mid-task

ALL = "tensorboard,mlflow,wandb"
RUN_ID = "toy__o1__ewc__s0"


@pytest.fixture(scope="module")
def runs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """The same ewc run with every tracker on and with none."""
    root = tmp_path_factory.mktemp("tracked")
    scenario = write_toy_scenario(root / "toy", n_tasks=2, n_per_class=20, train_size=16, test_size=8)
    for name, extra in {"watched": ("--report-to", ALL), "alone": ()}.items():
        assert main(smoke_args(scenario, root / name, "--strategies", "ewc", *extra)) == 0
    return {"watched": root / "watched", "alone": root / "alone", "scenario": scenario}


def the_record(out: Path) -> dict:
    (path,) = out.glob("*.json")
    return json.loads(path.read_text())


def test_trackers_only_watch_the_record_is_the_one_made_without_them(runs: dict[str, Path]) -> None:
    watched, alone = the_record(runs["watched"]), the_record(runs["alone"])
    for key in COMPARED:
        assert watched[key] == alone[key], key
    assert watched["config"]["report_to"] == ALL.split(",") and alone["config"]["report_to"] == []


def test_tensorboard_event_files_hold_every_step_every_row_and_the_matrix(runs: dict[str, Path]) -> None:
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    done = the_record(runs["watched"])
    steps = sum(t["steps"] for t in done["timings"])
    events = EventAccumulator(str(runs["watched"] / "trackers" / "tensorboard" / RUN_ID), size_guidance={"scalars": 0, "tensors": 0})
    events.Reload()
    loss = events.Scalars("train/loss")
    assert [e.step for e in loss] == list(range(1, steps + 1))
    assert {"train/task_loss", "train/penalty", "train/lr", "train/grad_norm", "train/tokens_per_second"} <= set(events.Tags()["scalars"])
    first_task = events.Scalars("row/accuracy/task1")
    assert [(e.step, pytest.approx(e.value)) for e in first_task] == [(r, done["measures"]["accuracy"][r][0]) for r in range(3)]
    assert events.Scalars("final/acc")[0].value == pytest.approx(done["metrics"]["acc"])
    assert "tensorboard/text_summary" in json.dumps(events.Tags()) or "accuracy_matrix/text_summary" in events.Tags()["tensors"]


def test_mlflow_holds_the_config_every_step_the_rows_and_the_record(runs: dict[str, Path]) -> None:
    from mlflow import MlflowClient

    done = the_record(runs["watched"])
    client = MlflowClient(tracking_uri=(runs["watched"] / "trackers" / "mlflow").resolve().as_uri())
    (found,) = client.search_runs([client.get_experiment_by_name("forgetbench").experiment_id])
    assert found.data.tags["forgetbench.run_id"] == RUN_ID and found.info.status == "FINISHED"
    assert found.data.params["train.lr"] == "0.003" and found.data.params["strategy"] == "ewc"
    steps = sum(t["steps"] for t in done["timings"])
    assert [m.step for m in client.get_metric_history(found.info.run_id, "train/loss")] == list(range(1, steps + 1))
    assert found.data.metrics["final/acc"] == pytest.approx(done["metrics"]["acc"])
    stored = Path(client.download_artifacts(found.info.run_id, "record.json", str(runs["watched"].parent / "mlflow-download")))
    assert json.loads(stored.read_text())["measures"] == done["measures"]


def wandb_records(path: Path) -> list[bytes]:
    """The protobuf records of a W&B run file.

    By hand because wandb 0.31 reads its own transaction log only in its Go core: the
    file is LevelDB's log format (a 7-byte file header, then 32 KiB blocks of records, each
    with a 7-byte header: checksum, length, and whether it is whole or a first, middle or
    last piece), whose records wandb's own ``wandb_internal_pb2.Record`` decodes.
    """
    data, position, whole, pending = path.read_bytes(), 7, [], b""
    while position + 7 <= len(data):
        room = 32768 - position % 32768
        if room < 7:  # the block's tail is padding
            position += room
            continue
        length, kind = int.from_bytes(data[position + 4:position + 6], "little"), data[position + 6]
        piece, position = data[position + 7:position + 7 + length], position + 7 + length
        if kind == 1:
            whole.append(piece)
        elif kind == 2:
            pending = piece
        elif kind in (3, 4):
            pending += piece
            if kind == 4:
                whole.append(pending)
    return whole


def wandb_run(path: Path) -> tuple[dict, dict, list[dict]]:
    """A W&B offline run file's config, summary and history rows, decoded with wandb's own protobuf schema."""
    from wandb.proto.wandb_internal_pb2 import Record

    config, summary, history = {}, {}, []
    for raw in wandb_records(path):
        parsed = Record()
        parsed.ParseFromString(raw)
        kind = parsed.WhichOneof("record_type")
        if kind == "run":  # the configuration given to wandb.init travels in the run record
            config.update({item.key or "/".join(item.nested_key): json.loads(item.value_json) for item in parsed.run.config.update})
        elif kind in ("config", "summary"):
            target = config if kind == "config" else summary
            target.update({item.key or "/".join(item.nested_key): json.loads(item.value_json) for item in getattr(parsed, kind).update})
        elif kind == "history":
            history.append({item.key or "/".join(item.nested_key): json.loads(item.value_json) for item in parsed.history.item})
    return config, summary, history


def test_wandb_offline_files_hold_the_config_every_step_and_the_final_metrics(runs: dict[str, Path]) -> None:
    done = the_record(runs["watched"])
    (folder,) = (runs["watched"] / "trackers" / "wandb" / "wandb").glob(f"offline-run-*-{RUN_ID}-*")
    config, summary, history = wandb_run(next(folder.glob("run-*.wandb")))
    assert config["train"]["lr"] == 0.003 and config["run_id"] == RUN_ID
    assert summary["final/acc"] == pytest.approx(done["metrics"]["acc"])
    assert [row["step"] for row in history if "train/loss" in row] == list(range(1, sum(t["steps"] for t in done["timings"]) + 1))
    assert [row["row"] for row in history if "row/perplexity" in row] == [0, 1, 2]
    assert json.loads((folder / "files" / "record.json").read_text())["measures"] == done["measures"]


def test_a_killed_tracked_run_continues_the_same_tracker_runs(runs: dict[str, Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from mlflow import MlflowClient
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    # This process's own W&B service (its address is in the environment) still holds the module's run ids: the runs here start their own.
    monkeypatch.delenv("WANDB_SERVICE", raising=False)
    out = tmp_path / "killed"
    cmd = command(runs["scenario"], out, "ewc", "--report-to", ALL)
    assert run(cmd, fault="task2:step3").returncode == -signal.SIGKILL
    assert run(cmd).returncode == 0  # in a process of its own: W&B holds a run id for the life of the process that used it
    steps = sum(t["steps"] for t in record(out)["timings"])
    events = EventAccumulator(str(out / "trackers" / "tensorboard" / RUN_ID))
    events.Reload()
    assert [e.step for e in events.Scalars("train/loss")] == list(range(1, steps + 1))  # the redone steps once
    client = MlflowClient(tracking_uri=(out / "trackers" / "mlflow").resolve().as_uri())
    (found,) = client.search_runs([client.get_experiment_by_name("forgetbench").experiment_id])  # one MLflow run, continued
    assert found.info.status == "FINISHED" and max(m.step for m in client.get_metric_history(found.info.run_id, "train/loss")) == steps
    continued = {p.name.split("-", 3)[-1] for p in (out / "trackers" / "wandb" / "wandb").glob("offline-run-*")}
    assert len(continued) == 1 and next(iter(continued)).startswith(RUN_ID)  # two folders, one W&B run id


def test_a_tracker_that_is_not_installed_or_not_known_is_one_sentence(monkeypatch: pytest.MonkeyPatch) -> None:
    real = tracking.importlib.util.find_spec
    monkeypatch.setattr(tracking.importlib.util, "find_spec", lambda name: None if name == "wandb" else real(name))
    with pytest.raises(UserError, match=r"--report-to wandb needs the wandb package.*\.\[trackers\]"):
        tracking.check_trackers(["tensorboard", "wandb"])
    with pytest.raises(UserError, match="tensorboard"):
        tracking.check_trackers(["tensorbord"])
    assert tracking.tracker_names(["none"]) == []
