"""A planned run: its name, fingerprint and row-0 key, made once by the suite and never recomputed downstream."""

from __future__ import annotations

from dataclasses import dataclass

from benchmark.core.config import DEFAULT_MEASURES, SuiteConfig, to_dict
from benchmark.core.hashing import stable_hash
from benchmark.core.strategy_spec import strategy_parts
from benchmark.engine.formulations import formulation
from benchmark.model.backbones import Backbone
from benchmark.model.encoding import EncodedTask
from scenarios.spec import ScenarioSpec


# Settings that change how a run computes but not its numbers (activation checkpointing
# recomputes the same activations; sharding splits the same sums over processes, as data
# parallelism does): a run may resume with them switched either way.
NOT_IN_FINGERPRINT = ("gradient_checkpointing", "sharding")
# Training settings that joined after the first records: hashed only away from the value every earlier run had.
HASHED_AWAY_FROM = {"freeze_layers": 0}


@dataclass(frozen=True)
class RunPlan:
    """One run of a suite, named and fingerprinted before anything executes.

    Attributes:
        order: The 1-based task order of the scenario.
        seed: The run's seed.
        strategy: The strategy spec (``naive``, ``ewc+replay``).
        run_id: ``<scenario>__o<order>__<strategy>__s<seed>``: the record's file name.
        fingerprint: Hash of everything the run's numbers depend on (a record or
            checkpoint is reused only if it matches).
        row0_key: Hash of everything row 0 depends on (shared by the strategies of an (order, seed)).
        label: The name its record gives the strategy: the spec, with a sweep point's values
            when it is one (``l2sp[alpha=1]``); empty: the spec.
    """

    order: int
    seed: int
    strategy: str
    run_id: str
    fingerprint: str
    row0_key: str
    label: str = ""

    @property
    def shown_as(self) -> str:
        """The strategy as its record names it."""
        return self.label or self.strategy


def run_fingerprint(config: SuiteConfig, spec: ScenarioSpec, strategy_name: str, backbone: Backbone, tasks: list[EncodedTask], order: int, seed: int) -> str:
    """Hash of everything the run's numbers depend on (a checkpoint or record resumes only if it matches)."""
    parts = {p: config.strategy_args.get(p, {}) for p in strategy_parts(strategy_name)}
    plain = to_dict(config)
    hashed = {
        "scenario": (spec.name, spec.version), "order": order, "seed": seed, "strategy": strategy_name, "strategy_args": parts,
        "model": backbone.fingerprint, "data": [t.data_hash for t in tasks], "setting": config.setting,
        "train": hashed_training(plain["train"]), "eval": plain["eval"],
    }
    if config.measures != DEFAULT_MEASURES:
        # Only where they differ from the default, so that results directories made before
        # measures were selectable keep their fingerprints (and are not run again).
        hashed["measures"] = config.measures
    if "lm_eval" in config.measures:
        hashed["lm_eval"] = plain["lm_eval"]
    return stable_hash({**hashed, **posing(config, tasks)})


def hashed_training(train: dict[str, object]) -> dict[str, object]:
    """The training settings a fingerprint hashes: not those that leave the numbers as they are, nor late ones at their old value."""
    return {k: v for k, v in train.items() if k not in NOT_IN_FINGERPRINT and not (k in HASHED_AWAY_FROM and v == HASHED_AWAY_FROM[k])}


def posing(config: SuiteConfig, tasks: list[EncodedTask]) -> dict[str, object]:
    """What the formulation adds to a fingerprint (nothing with heads, so older fingerprints hold)."""
    return formulation(config.formulation).fingerprint_parts(config, tasks)


def row0_key(config: SuiteConfig, backbone: Backbone, tasks: list[EncodedTask], seed: int) -> str:
    """Hash of everything row 0 depends on: the model, the tasks and their heads' seed, the evaluation and the measures."""
    return stable_hash({
        "model": backbone.fingerprint, "tasks": [(t.name, t.head, t.data_hash) for t in tasks], "seed": seed,
        "setting": config.setting, "eval": to_dict(config)["eval"], "precision": config.train.precision,
        "measures": config.measures, **posing(config, tasks),
        **({"lm_eval": to_dict(config)["lm_eval"]} if "lm_eval" in config.measures else {}),
    })
