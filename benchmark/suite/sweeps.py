"""Sweeps (``--sweep KEY=V1,V2``, repeatable, or a ``sweep:`` block): a grid of settings, each point run like a suite of its own.

Every point is the suite's configuration with the point's values put in, so each of
its runs has the fingerprint of those values, resumes and is skipped like any run, and
goes through whichever launcher the suite names. A run's record names its point twice:
its configuration's ``sweep_point``, and its strategy label, ``l2sp[alpha=1]``, which is
also its run id's and so its own row in every leaderboard table. A strategy the point
does not concern (``naive`` under ``strategy_args.l2sp.alpha``) keeps its plain name and
runs once. Sweeping chooses nothing: picking each strategy's point without reading test
data is the selection protocols' part (not built yet).
"""

from __future__ import annotations

import itertools
from typing import Any

from benchmark.core.config import SuiteConfig, nested_override, to_dict
from benchmark.core.errors import UserError
from benchmark.core.strategy_spec import strategy_parts

NOT_SWEPT = ("sweep", "sweep_point", "out", "models", "model", "strategies", "seeds", "orders", "scenario", "plugins", "report_to")


def check_sweep(config: SuiteConfig) -> None:
    """Refuses, before any work, a sweep that names no value, varies which runs there are, or names a strategy the suite lacks."""
    if config.sweep and config.models:
        raise UserError("--sweep and the model axis (--model a,b) do not combine yet; sweep one model per --out")
    swept = {part for name in config.strategies for part in strategy_parts(name)}
    for key, values in config.sweep.items():
        if not isinstance(values, list) or not values:
            raise UserError(f"--sweep {key} names no value; give them as KEY=V1,V2 (or a list under sweep: in the config file)")
        parts = key.split(".")
        if parts[0] in NOT_SWEPT:
            raise UserError(f"--sweep {key}: a sweep varies how runs are made, not which runs there are; list {parts[0]} directly instead")
        if parts[0] == "strategy_args" and (len(parts) != 3 or parts[1] not in swept):
            raise UserError(
                f"--sweep {key} must name strategy_args.STRATEGY.ARGUMENT for a strategy the suite runs ({', '.join(sorted(swept))}); fix the key"
            )


def sweep_points(config: SuiteConfig, build: Any) -> list[SuiteConfig]:
    """One configuration per point of the grid, in the order the keys and values were given (the config alone without a sweep).

    ``build`` makes a checked configuration from override layers (:func:`benchmark.suite.config.build_config`),
    so a key that is no setting, or a value of the wrong type, is refused in one sentence as a flag would be.
    """
    if not config.sweep:
        return [config]
    check_sweep(config)
    base = {**to_dict(config), "sweep": {}}
    keys = list(config.sweep)
    points = []
    for values in itertools.product(*(config.sweep[key] for key in keys)):
        point = dict(zip(keys, values))
        points.append(build(overrides=[base, *(nested_override(k, v) for k, v in point.items()), {"sweep_point": point}]))
    return points


def point_label(strategy: str, point: dict[str, Any]) -> str:
    """``strategy`` with the values of the point that concern it (``l2sp[alpha=1]``); the plain name when none does.

    A key names itself by its last part unless two keys of the point share it.
    """
    parts = set(strategy_parts(strategy))
    concerning = {k: v for k, v in point.items() if not k.startswith("strategy_args.") or k.split(".")[1] in parts}
    if not concerning:
        return strategy
    last = [k.rsplit(".", 1)[-1] for k in concerning]
    names = [short if last.count(short) == 1 else key for key, short in zip(concerning, last)]
    return f"{strategy}[{','.join(f'{n}={v}' for n, v in zip(names, concerning.values()))}]"
