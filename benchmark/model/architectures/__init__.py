"""Architectures known offline: the configs of the models the literature runs, shipped as data.

A config is a fact (layers, widths, heads, vocabulary), so planning a run's memory and
building a model with random weights need no download. Each ``<name>.json`` holds the
model's hub id, its parameter count as transformers 5 builds it (pinned by a test that
builds every config on the meta device) and the config itself.
"""

from __future__ import annotations

import difflib
import json
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from transformers import CONFIG_MAPPING, PretrainedConfig

from benchmark.core.errors import UserError

FOLDER = Path(__file__).resolve().parent


@dataclass(frozen=True)
class Architecture:
    """One shipped architecture.

    Attributes:
        name: Its forgetbench name (``llama-3.1-8b``), also accepted by ``--model NAME:random``.
        hub_id: The hub id of the pretrained model with this config.
        parameters: Its parameter count (each shared tensor once).
        values: The config as the hub's ``config.json`` states it.
    """

    name: str
    hub_id: str
    parameters: int
    values: dict[str, object]

    def config(self) -> PretrainedConfig:
        """The transformers config object."""
        values = dict(self.values)
        return CONFIG_MAPPING[str(values.pop("model_type"))](**values)


@cache
def architectures() -> dict[str, Architecture]:
    """Every shipped architecture by name."""
    found = {}
    for path in sorted(FOLDER.glob("*.json")):
        data = json.loads(path.read_text(encoding="utf-8"))
        found[path.stem] = Architecture(path.stem, data["hub_id"], int(data["parameters"]), data["config"])
    return found


def architecture(name: str) -> Architecture:
    """The shipped architecture ``name`` (case-insensitive), or one sentence naming the closest."""
    known = architectures()
    if name.lower() in known:
        return known[name.lower()]
    close = difflib.get_close_matches(name.lower(), list(known), n=1)
    hint = f"did you mean {close[0]!r}?" if close else f"the shipped ones are {', '.join(known)}"
    raise UserError(f"{name!r} is not a shipped architecture; {hint}")
