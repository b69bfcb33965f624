"""How a task is posed: the :class:`Formulation` contract, its registry and the built-in ``heads`` and ``text``."""

from __future__ import annotations

from benchmark.engine.formulations.base import FORMULATIONS, Formulation, Scoring, formulation, register_formulation

__all__ = ["FORMULATIONS", "Formulation", "Scoring", "formulation", "register_formulation"]
