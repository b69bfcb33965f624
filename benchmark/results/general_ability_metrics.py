"""General-ability metrics from the ``lm_eval`` series: G[i][m] is lm-eval's accuracy on benchmark m at row i.

Only row 0 and the last row are read (the measure takes those by default). The delta is
TRACE's general-ability delta (Wang et al. 2023), mean_m (G[T][m] - G[0][m]), in
accuracy points; the relative change divides each benchmark's change by its row-0
accuracy first, so a benchmark near chance does not dominate by its scale.
"""

from __future__ import annotations

import numpy as np

from benchmark.results.metrics import register_metric


@register_metric("general_delta", higher_is_better=True, input="lm_eval", label="general Δ", kind="percent")
def general_ability_delta(G: np.ndarray) -> float:
    """General-ability delta (TRACE): mean over lm-eval benchmarks of the final minus the pretrained accuracy."""
    return float(np.mean(G[-1] - G[0]))


@register_metric("general_relative", higher_is_better=True, input="lm_eval", label="general rel. Δ", kind="percent")
def general_ability_relative(G: np.ndarray) -> float:
    """Mean over lm-eval benchmarks of the relative change (G[T][m] - G[0][m]) / G[0][m]."""
    with np.errstate(divide="ignore", invalid="ignore"):
        return float(np.mean((G[-1] - G[0]) / G[0]))
