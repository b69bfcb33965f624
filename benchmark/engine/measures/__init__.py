"""After-task measures: the contract, the registry, and the built-in ones (importing this registers them).

A new built-in measure is a module here plus one import line below; a third-party one
registers through the ``forgetbench.measures`` entry-point group.
"""

from __future__ import annotations

from benchmark.engine.measures import accuracy, cka, layer_probe, lm_eval, lm_recovery, perplexity, probe, task_recovery  # noqa: F401  (registration)
from benchmark.engine.measures.base import (
    MEASURES,
    Measure,
    MeasureEnv,
    MeasurePoint,
    build_measures,
    check_model_kind,
    measured_rows,
    not_applicable,
    register_measure,
)

__all__ = ["MEASURES", "Measure", "MeasureEnv", "MeasurePoint", "build_measures", "check_model_kind", "measured_rows", "not_applicable", "register_measure"]
