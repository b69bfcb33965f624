"""The built-in experiment trackers; importing this package registers each (each imports its library only when used)."""

from __future__ import annotations

from benchmark.engine.trackers import mlflow_files, tensorboard_events, wandb_offline  # noqa: F401  (registration)
