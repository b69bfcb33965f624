"""A strategy spec as the user writes it (``naive``, ``ewc+replay``) split into its parts, in one place."""

from __future__ import annotations

COMPOSE = "+"


def strategy_parts(spec: str) -> list[str]:
    """The strategies ``spec`` composes, in order: ``"ewc + replay"`` gives ``["ewc", "replay"]`` (spaces around ``+`` ignored)."""
    return [part.strip() for part in spec.split(COMPOSE)]
