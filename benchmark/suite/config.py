"""The suite's configuration: the core resolver with the chosen scenario's budget underneath."""

from __future__ import annotations

import dataclasses
from typing import Any

from benchmark.core.config import SuiteConfig, resolve_config
from benchmark.engine.formulations import formulation
from scenarios.catalog import scenario_budget


def build_config(
    *, preset: str | None = None, config_file: str | None = None, overrides: list[dict[str, Any]] | None = None,
) -> SuiteConfig:
    """Resolves defaults < scenario budget < preset < YAML file < command-line overrides into a SuiteConfig.

    The scenario's recommended ``seeds`` and ``train``/``eval`` settings (its YAML
    file's budget) sit under everything the user states.
    """
    return with_decode(resolve_config(preset=preset, config_file=config_file, overrides=overrides, scenario_defaults=scenario_budget))


def with_decode(config: SuiteConfig) -> SuiteConfig:
    """``config`` with the decoding rule its formulation applies when none is named (rank for heads and text, greedy for
    generation), so that the record states it."""
    if config.decode is not None:
        return config
    return dataclasses.replace(config, decode=formulation(config.formulation).default_decode)


def suite_models(config: SuiteConfig) -> list[str]:
    """The models a suite runs: ``models`` when given, else the one ``model``."""
    return list(config.models) or [config.model]
