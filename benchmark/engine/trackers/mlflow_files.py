"""``--report-to mlflow``: an MLflow run per forgetbench run, in a file store under ``<out>/trackers/mlflow`` by default.

MLflow keeps its file store in maintenance mode and asks for a database; the file
store is used anyway (opted into here) because it is a plain folder beside the
records that needs no server and no extra package. ``MLFLOW_TRACKING_URI`` set by
the user (a server, a database) is used instead.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from benchmark.engine.tracking import Tracker, register_tracker
from benchmark.engine.trackers.matrix_text import matrix_markdown

EXPERIMENT = "forgetbench"
RUN_TAG = "forgetbench.run_id"


@register_tracker("mlflow", description="an MLflow run per run, in a file store under <out>/trackers/mlflow/ (or MLFLOW_TRACKING_URI)")
class MLflowTracker(Tracker):
    """Params from the config, steps and rows as metrics, the matrix as text, the record as ``record.json``; a continued run reuses its MLflow run."""

    package = "mlflow"

    def __init__(self, *, folder: Path, run_id: str, config: dict[str, Any], resumed: bool, first_step: int) -> None:
        from mlflow import MlflowClient

        uri = os.environ.get("MLFLOW_TRACKING_URI")
        if not uri:
            os.environ.setdefault("MLFLOW_ALLOW_FILE_STORE", "true")  # see the module docstring
            uri = folder.resolve().as_uri()
        self.client, self.tasks = MlflowClient(tracking_uri=uri), list(config.get("tasks", []))
        experiment = self.client.get_experiment_by_name(EXPERIMENT)
        experiment_id = experiment.experiment_id if experiment else self.client.create_experiment(EXPERIMENT)
        found = self.client.search_runs([experiment_id], filter_string=f"tags.`{RUN_TAG}` = '{run_id}'", max_results=1)
        if found:  # a continued run (or a rerun of a finished one): the same MLflow run
            self.run = found[0].info.run_id
            self.client.update_run(self.run, status="RUNNING")
            return
        self.run = self.client.create_run(experiment_id, run_name=run_id, tags={RUN_TAG: run_id}).info.run_id
        for key, value in flat(config).items():
            self.client.log_param(self.run, key, str(value)[:6000])

    def log_step(self, step: int, values: dict[str, float]) -> None:
        for key, value in values.items():
            self.client.log_metric(self.run, f"train/{key}", value, step=step)

    def log_row(self, row: int, values: dict[str, float], matrix: list[list[float | None]]) -> None:
        for key, value in values.items():
            self.client.log_metric(self.run, f"row/{key}", value, step=row)
        self.client.log_text(self.run, matrix_markdown(matrix, self.tasks), f"accuracy_matrix/row{row}.md")

    def finish(self, metrics: dict[str, float], record: dict[str, Any]) -> None:
        for key, value in metrics.items():
            self.client.log_metric(self.run, f"final/{key}", value)
        self.client.log_dict(self.run, record, "record.json")
        self.client.set_terminated(self.run)


def flat(config: dict[str, Any], prefix: str = "") -> dict[str, object]:
    """``{"train": {"lr": 1}}`` as ``{"train.lr": 1}`` (MLflow params are flat)."""
    out: dict[str, object] = {}
    for key, value in config.items():
        if isinstance(value, dict) and value:
            out.update(flat(value, f"{prefix}{key}."))
        else:
            out[f"{prefix}{key}"] = value
    return out
