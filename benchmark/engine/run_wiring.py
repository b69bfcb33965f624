"""What the engine needs to carry out one run beyond the strategy's view: the runner's wiring."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from benchmark.core.config import SuiteConfig
from benchmark.engine.measures import Measure, MeasureEnv
from benchmark.engine.run_context import RunContext
from benchmark.engine.strategy import Strategy
from scenarios.spec import ScenarioSpec


@dataclass(frozen=True)
class RunWiring:
    """One run's parts as the engine uses them (strategies never see this object).

    Attributes:
        context: What the strategy sees (:class:`RunContext`).
        strategy: The run's own strategy, built (or copied from the suite's checked one) for this run and not yet bound.
        config: The suite's whole configuration (the record stores it).
        spec: The scenario (its name and version go into the record).
        measures: What is measured after each task, by name (see :mod:`benchmark.engine.measures`).
        measure_env: What the measures are handed: backbone, corpus, settings, processes.
        environment: Facts of the machine and packages, for the record.
        progress: Show per-task progress bars.
    """

    context: RunContext
    strategy: Strategy
    config: SuiteConfig
    spec: ScenarioSpec
    measures: dict[str, Measure]
    measure_env: MeasureEnv
    environment: dict[str, Any] = field(default_factory=dict)
    progress: bool = False
