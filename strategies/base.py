"""The strategy contract, re-exported where strategy authors look for it.

The contract lives in the engine (:mod:`benchmark.engine.strategy`, and how strategies compose in
:mod:`benchmark.engine.strategy_building`), which never imports
this package; ``from strategies.base import Strategy, register_strategy`` keeps working
for built-in and third-party strategies alike.
"""

from __future__ import annotations

from benchmark.engine.strategy import STRATEGIES, Batch, MemoryProfile, Strategy, TrainLoop, register_strategy, tensor_bytes
from benchmark.engine.strategy_building import Composite, accepted_arguments, build_strategy

__all__ = [
    "STRATEGIES", "Batch", "Composite", "MemoryProfile", "Strategy", "TrainLoop", "accepted_arguments",
    "build_strategy", "register_strategy", "tensor_bytes",
]
