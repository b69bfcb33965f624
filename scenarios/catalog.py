"""The scenario registry: every YAML file in ``scenarios/configs`` under its ``name``.

``--scenario`` takes a registered name or a path to a scenario YAML file. A scenario
is also registered as ``name@version``, and earlier versions that changed its tasks
or budget stay reachable that way from ``scenarios/configs/versions`` (``default@1``),
so results made with them can be reproduced and compared: a record stores the name
and the version. Third-party packages add scenarios through the entry-point group
``forgetbench.scenarios``; the entry point names a path (str or Path) to the YAML file.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from benchmark.core.errors import UserError
from benchmark.core.registry import Registry
from scenarios.reading import read_scenario_file
from scenarios.spec import ScenarioSpec

CONFIG_DIR = Path(__file__).resolve().parent / "configs"
EARLIER_VERSIONS_DIR = CONFIG_DIR / "versions"

SCENARIOS: Registry[object] = Registry(
    "scenario",
    where="--scenario",
    builtin_modules=("scenarios.catalog",),
    entry_point_group="forgetbench.scenarios",
)


def _register_builtin_files() -> None:
    for latest, folder in ((True, CONFIG_DIR), (False, EARLIER_VERSIONS_DIR)):
        for path in sorted(folder.glob("*.yaml")):
            data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
            name = data.get("name", path.stem)
            description = str(data.get("description", "")).strip().splitlines()[0] if data.get("description") else ""
            if latest:
                SCENARIOS.add(name, path, description=description)
            SCENARIOS.add(f"{name}@{data.get('version')}", path, description=f"version {data.get('version')}: {description}")


_register_builtin_files()


def load_scenario(name_or_path: str) -> ScenarioSpec:
    """Reads the scenario registered as ``name_or_path``, or the YAML file at that path."""
    candidate = Path(name_or_path).expanduser()
    if candidate.is_dir() and name_or_path not in SCENARIOS:  # a folder named like a registered scenario is no mistake
        raise UserError(f"--scenario {name_or_path!r} is a directory; pass a scenario YAML file or a registered name (see --list)")
    if candidate.suffix in (".yaml", ".yml") or candidate.is_file():
        return read_scenario_file(candidate)
    target = SCENARIOS.get(name_or_path)
    if callable(target):
        target = target()
    return read_scenario_file(Path(str(target)))


def scenario_budget(scenario: str) -> dict[str, Any]:
    """The scenario's recommended ``seeds``, ``train``/``eval`` settings and formulation, which everything else overrides."""
    spec = load_scenario(scenario)
    budget: dict[str, Any] = {}
    if spec.seeds:
        budget["seeds"] = list(spec.seeds)
    if spec.train:
        budget["train"] = dict(spec.train)
    if spec.eval:
        budget["eval"] = dict(spec.eval)
    if spec.formulation:
        budget["formulation"] = spec.formulation  # a scenario of free-text tasks is posed by generation unless the user says otherwise
    return budget
