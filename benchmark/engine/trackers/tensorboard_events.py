"""``--report-to tensorboard``: event files through torch's SummaryWriter (``tensorboard --logdir <out>/trackers/tensorboard``)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from benchmark.engine.tracking import Tracker, register_tracker
from benchmark.engine.trackers.matrix_text import matrix_markdown


@register_tracker("tensorboard", description="TensorBoard event files under <out>/trackers/tensorboard/<run id>/")
class TensorBoardTracker(Tracker):
    """Steps as ``train/*`` scalars, rows as ``row/*`` scalars and the accuracy matrix as text, the config and record as text.

    A continued run writes into the same folder and drops the events of the steps it
    does again (``purge_step``), so its curves have each step once.
    """

    package = "tensorboard"

    def __init__(self, *, folder: Path, run_id: str, config: dict[str, Any], resumed: bool, first_step: int) -> None:
        from torch.utils.tensorboard import SummaryWriter

        self.tasks = list(config.get("tasks", []))
        self.writer = SummaryWriter(log_dir=str(folder / run_id), purge_step=first_step if resumed else None)
        if not resumed:
            self.writer.add_text("config", "```\n" + json.dumps(config, indent=1, sort_keys=True, default=str) + "\n```", 0)

    def log_step(self, step: int, values: dict[str, float]) -> None:
        for key, value in values.items():
            self.writer.add_scalar(f"train/{key}", value, step)

    def log_row(self, row: int, values: dict[str, float], matrix: list[list[float | None]]) -> None:
        for key, value in values.items():
            self.writer.add_scalar(f"row/{key}", value, row)
        self.writer.add_text("accuracy_matrix", matrix_markdown(matrix, self.tasks), row)
        self.writer.flush()

    def finish(self, metrics: dict[str, float], record: dict[str, Any]) -> None:
        for key, value in metrics.items():
            self.writer.add_scalar(f"final/{key}", value, 0)
        self.writer.add_text("record", "```\n" + json.dumps(record, sort_keys=True, default=str)[:100_000] + "\n```", 0)
        self.writer.close()
