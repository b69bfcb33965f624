"""forgetbench: a continual-learning forgetting benchmark for pretrained language models.

Importing this package registers nothing and touches no network; the engine's parts
live in submodules (``benchmark.suite.runner``, ``benchmark.results.metrics``, ...).
"""

from __future__ import annotations

__version__ = "0.1.0"
