"""Aggregated rows -> printable tables (GitHub markdown via tabulate)."""

from __future__ import annotations

import math

import pandas as pd
from tabulate import tabulate

from benchmark.metrics import METRICS
from leaderboard.aggregate import TABLE_METRICS

ARROWS = {True: "↑", False: "↓"}


def _direction(path: str) -> bool | None:
    section, _, name = path.partition(".")
    if section == "metrics" and name in METRICS:
        return METRICS.get(name).higher_is_better
    return None


FORMATS = {"percent": "{:.1f}", "ratio": "{:.3f}", "count": "{:,.0f}", "seconds": "{:.1f}"}


def header(path: str, label: str, kind: str) -> str:
    """Column header with the metric's arrow (↑ higher is better, ↓ lower) and unit."""
    direction = _direction(path)
    arrow = f" {ARROWS[direction]}" if direction is not None else ""
    return f"{label}{arrow}" + (" (%)" if kind == "percent" else "")


def format_cell(mean: float | None, std: float | None, n: int, kind: str) -> str:
    """``mean ± std`` (std only when n > 1 and not zero for counts); a dash when the value is missing."""
    if mean is None or math.isnan(mean):
        return "-"
    scale = 100.0 if kind == "percent" else 1.0
    pattern = FORMATS[kind]
    text = pattern.format(mean * scale)
    if n > 1 and std is not None and not math.isnan(std) and not (kind == "count" and std == 0):
        text += " ± " + pattern.format(std * scale)
    return text


def display_frame(aggregated: pd.DataFrame) -> pd.DataFrame:
    """The aggregated rows with formatted cells and arrowed headers."""
    rows = []
    for _, row in aggregated.iterrows():
        cells = {"scenario": row["scenario"], "strategy": row["strategy"], "n": int(row["n"])}
        for path, label, kind in TABLE_METRICS:
            cells[header(path, label, kind)] = format_cell(row[f"{path}:mean"], row[f"{path}:std"], int(row["n"]), kind)
        rows.append(cells)
    return pd.DataFrame(rows)


def markdown_table(aggregated: pd.DataFrame) -> str:
    """GitHub-flavoured markdown table of the aggregated rows."""
    frame = display_frame(aggregated)
    if frame.empty:
        return "(no finished runs)"
    return tabulate(frame, headers="keys", tablefmt="github", showindex=False, disable_numparse=True)
