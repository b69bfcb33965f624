"""Drawing primitives every leaderboard figure uses: a canvas, an atomic PNG+SVG save, a file-name slug, quiet NaN means.

No pyplot: figures are drawn on their own Agg canvases, so nothing global changes.
"""

from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from benchmark.core.atomic_io import atomic_write


def new_figure(width: float, height: float) -> Figure:
    """A constrained-layout matplotlib figure on its own Agg canvas."""
    figure = Figure(figsize=(width, height), layout="constrained")
    FigureCanvasAgg(figure)
    return figure


def save_figure(figure: Figure, out_dir: Path, stem: str) -> list[Path]:
    """Writes the figure as PNG and SVG, each atomically (a killed process leaves no half-drawn file)."""
    paths = []
    for suffix in ("png", "svg"):
        path = out_dir / f"{stem}.{suffix}"
        atomic_write(path, lambda handle, suffix=suffix: figure.savefig(handle, format=suffix, dpi=110))
        paths.append(path)
    return paths


def nan_mean(values: np.ndarray, axis: int = 0) -> np.ndarray:
    """Mean over ``axis`` ignoring NaN; all-NaN slices (rows not measured) stay NaN without numpy's warning."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        return np.nanmean(values, axis=axis)


def nan_std(values: np.ndarray, axis: int = 0) -> np.ndarray:
    """Standard deviation over ``axis`` ignoring NaN, likewise without a warning on all-NaN slices."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        return np.nanstd(values, axis=axis)


def file_slug(text: str) -> str:
    """``text`` safe in a figure's file name."""
    return "".join(ch if ch.isalnum() or ch in "-_." else "-" for ch in text)
