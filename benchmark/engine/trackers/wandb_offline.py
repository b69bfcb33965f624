"""``--report-to wandb``: a Weights & Biases run per forgetbench run, offline by default (``wandb sync`` uploads it later)."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from benchmark.engine.tracking import Tracker, register_tracker
from benchmark.engine.trackers.matrix_text import matrix_markdown

PROJECT = "forgetbench"


@register_tracker("wandb", description="a W&B run per run, offline under <out>/trackers/wandb/ unless WANDB_MODE says otherwise")
class WandbTracker(Tracker):
    """The config, steps (``train/*``) and rows (``row/*``, the matrix as a table), final metrics in the summary, the record as a file.

    The W&B run's id is the forgetbench run id, so a continued run resumes it
    (``resume="allow"``); W&B drops steps it has seen, so repeated steps are logged once.
    """

    package = "wandb"

    def __init__(self, *, folder: Path, run_id: str, config: dict[str, Any], resumed: bool, first_step: int) -> None:
        import wandb

        folder.mkdir(parents=True, exist_ok=True)
        self.wandb, self.tasks = wandb, list(config.get("tasks", []))
        mode = os.environ.get("WANDB_MODE", "offline")  # offline unless the user asks for online
        self.run = wandb.init(
            project=os.environ.get("WANDB_PROJECT", PROJECT), id=wandb_id(run_id, str(config.get("fingerprint", ""))), name=run_id,
            dir=str(folder), config=config,
            mode=mode, resume="allow", reinit="create_new", settings=wandb.Settings(silent=True, console="off"),
        )
        for axis, series in (("step", "train/*"), ("row", "row/*")):  # two x axes: optimizer steps and rows of R
            self.run.define_metric(axis)
            self.run.define_metric(series, step_metric=axis)

    def log_step(self, step: int, values: dict[str, float]) -> None:
        self.run.log({f"train/{k}": v for k, v in values.items()} | {"step": step})

    def log_row(self, row: int, values: dict[str, float], matrix: list[list[float | None]]) -> None:
        table = self.wandb.Table(columns=["row", *self.tasks], data=[[i, *r] for i, r in enumerate(matrix)])
        self.run.log({f"row/{k}": v for k, v in values.items()} | {"row": row, "accuracy_matrix": table})
        self.run.summary["accuracy_matrix_text"] = matrix_markdown(matrix, self.tasks)

    def finish(self, metrics: dict[str, float], record: dict[str, Any]) -> None:
        for key, value in metrics.items():
            self.run.summary[f"final/{key}"] = value
        # The run's own files folder: W&B keeps (and, once synced, uploads) whatever is there.
        (Path(self.run.dir) / "record.json").write_text(json.dumps(record, sort_keys=True, default=str), encoding="utf-8")
        self.run.finish()


def wandb_id(run_id: str, fingerprint: str) -> str:
    """The W&B run id of a run: its run id and the start of its fingerprint.

    A W&B id names one run in a whole project, so the fingerprint (which covers the
    model and every setting) keeps apart the runs one run id has under other models or
    configurations, while a continued run, same fingerprint, gets the same id. W&B allows
    letters, digits, dashes and underscores, at most 128 characters.
    """
    kept = "".join(c if c.isalnum() or c in "-_" else "-" for c in run_id)
    return f"{kept[:115]}-{fingerprint[:12]}"
