"""Aggregated rows -> markdown, LaTeX (booktabs), CSV, HTML or JSON.

Cells read ``mean ± std`` (std when n > 1) and, with confidence intervals on,
``[low, high]``; headers carry ↑/↓ from each metric's ``higher_is_better``; the best
mean of each column within a scenario is bold (reference rows are not contenders);
a missing value is a dash.
"""

from __future__ import annotations

import html
import json
import math
from collections.abc import Callable

import pandas as pd
from tabulate import tabulate

from benchmark.core.printable import printable

from benchmark.results.records import RunRecord
from leaderboard.aggregate import Column, aggregate, sort_rows, table_columns

FORMATS = ("md", "latex", "csv", "html", "json")
NUMBER_FORMATS = {"percent": "{:.1f}", "ratio": "{:.3f}", "count": "{:,.0f}", "megabytes": "{:,.1f}", "seconds": "{:.1f}"}
SCALES = {"percent": 100.0, "megabytes": 1.0 / 2**20}


def _missing(value: object) -> bool:
    return value is None or (isinstance(value, float) and math.isnan(value))


def number(value: float, kind: str) -> str:
    """One value in the column's display unit."""
    return NUMBER_FORMATS[kind].format(value * SCALES.get(kind, 1.0))


def cell_text(row: pd.Series, column: Column, ci: bool) -> str:
    """``mean ± std [low, high]`` of one column, or a dash."""
    mean = row[f"{column.key}:mean"]
    if _missing(mean):
        return "-"
    text = number(mean, column.kind)
    std = row[f"{column.key}:std"]
    if row[f"{column.key}:n"] > 1 and not _missing(std) and not (column.kind in ("count", "megabytes") and std == 0):
        text += " ± " + number(std, column.kind)
    if ci and not _missing(row.get(f"{column.key}:low")):
        text += f" [{number(row[f'{column.key}:low'], column.kind)}, {number(row[f'{column.key}:high'], column.kind)}]"
    return text


def best_rows(table: pd.DataFrame, column: Column) -> set[int]:
    """Row positions holding the best mean of ``column`` within their scenario (reference rows excluded)."""
    best: set[int] = set()
    for _, group in table[~table["reference"].astype(bool)].groupby("scenario"):
        values = group[f"{column.key}:mean"].dropna()
        if values.empty:
            continue
        target = values.max() if column.higher_is_better else values.min()
        best.update(int(i) for i in values.index[values == target])
    return best


def header(column: Column, arrow: Callable[[bool], str] = lambda up: "↑" if up else "↓", percent: str = "%") -> str:
    """``Label ↑ (%)``."""
    unit = f" ({percent})" if column.kind == "percent" else ""
    return f"{column.label} {arrow(column.higher_is_better)}{unit}"


def runs_text(row: pd.Series) -> str:
    """``n`` with failed runs mentioned."""
    return f"{int(row['n'])}" + (f" (+{int(row['failed'])} failed)" if row["failed"] else "")


def _cells(
    table: pd.DataFrame, ci: bool, *, escape: Callable[[str], str], bold: Callable[[str], str], name: Callable[[str, bool], str],
) -> list[list[str]]:
    """Display cells of every row: escaped, best values bold, reference rows marked."""
    winners = {c.key: best_rows(table, c) for c in table_columns(table)}
    rows = []
    for position, row in table.iterrows():
        cells = [escape(row["scenario"]), name(escape(row["strategy"]), bool(row["reference"])), escape(runs_text(row))]
        for column in table_columns(table):
            text = cell_text(row, column, ci)
            cells.append(bold(escape(text)) if position in winners[column.key] and text != "-" else escape(text))
        rows.append(cells)
    return rows


MARKDOWN_HTML = {"&": "&amp;", "<": "&lt;", ">": "&gt;"}  # markdown renders inline HTML: <script>, <img onerror=...>


def markdown_escape(text: str) -> str:
    """Escapes what would break a markdown table cell or act in it: ``|`` ends the cell, a newline the row, inline HTML
    runs where the markdown is rendered, and a control character (an ANSI escape) rewrites the terminal it is printed to."""
    text = text.replace("\\", "\\\\").replace("|", "\\|").replace("\n", " ")
    return printable("".join(MARKDOWN_HTML.get(ch, ch) for ch in text))


def markdown(table: pd.DataFrame, ci: bool = False) -> str:
    """GitHub-flavoured markdown."""
    if table.empty:
        return "(no runs)"
    rows = _cells(table, ci, escape=markdown_escape, bold=lambda t: f"**{t}**", name=lambda s, ref: f"{s} (reference)" if ref else s)
    headers = ["scenario", "strategy", "runs"] + [header(c) for c in table_columns(table)]
    return tabulate(rows, headers=headers, tablefmt="github", disable_numparse=True)


LATEX_SPECIALS = {"\\": r"\textbackslash{}", "&": r"\&", "%": r"\%", "$": r"\$", "#": r"\#", "_": r"\_", "{": r"\{", "}": r"\}", "~": r"\textasciitilde{}", "^": r"\textasciicircum{}"}


def latex_escape(text: str) -> str:
    """Escapes LaTeX special characters."""
    return "".join(LATEX_SPECIALS.get(ch, ch) for ch in text).replace("±", r"$\pm$")


def latex(table: pd.DataFrame, ci: bool = False) -> str:
    """A booktabs tabular (needs ``\\usepackage{booktabs}``)."""
    rows = _cells(
        table, ci, escape=latex_escape, bold=lambda t: r"\textbf{" + t + "}", name=lambda s, ref: r"\textit{" + s + "}" if ref else s,
    )
    headers = ["scenario", "strategy", "runs"] + [
        latex_escape(c.label) + (r" $\uparrow$" if c.higher_is_better else r" $\downarrow$") + (r" (\%)" if c.kind == "percent" else "") for c in table_columns(table)
    ]
    raw = tabulate(rows, headers=headers, tablefmt="latex_raw", disable_numparse=True, colalign=["left", "left"] + ["right"] * (len(headers) - 2))
    lines = raw.splitlines()
    rules = [i for i, line in enumerate(lines) if line.strip() == r"\hline"]
    for i, rule in zip(rules, (r"\toprule", r"\midrule", r"\bottomrule")):
        lines[i] = rule
    return "\n".join(lines)


def csv(table: pd.DataFrame, ci: bool = False) -> str:
    """Machine-readable numbers (not display strings): mean, std, n (and CI) per column."""
    keep = ["scenario", "strategy", "reference", "n", "failed"]
    stats = ["mean", "std", "n"] + (["low", "high"] if ci else [])
    columns = keep + [f"{c.key}:{s}" for c in table_columns(table) for s in stats]
    return table.reindex(columns=columns).to_csv(index=False)


def html_table(table: pd.DataFrame, ci: bool = False, *, sortable: bool = False) -> str:
    """An HTML table; each numeric cell carries its mean in ``data-value`` for client-side sorting."""
    winners = {c.key: best_rows(table, c) for c in table_columns(table)}
    head = "".join(
        f'<th data-key="{key}" data-higher="{int(up)}">{html.escape(text)}</th>'
        for key, text, up in [("scenario", "scenario", True), ("strategy", "strategy", True), ("runs", "runs", True)]
        + [(c.key, header(c), c.higher_is_better) for c in table_columns(table)]
    )
    body = []
    for position, row in table.iterrows():
        meta = f"seeds {row['seeds']}, orders {row['orders']}, model {', '.join(row['models'])}"
        cells = [
            f'<td data-value="{html.escape(row["scenario"])}">{html.escape(row["scenario"])}</td>',
            f'<td data-value="{html.escape(row["strategy"])}" title="{html.escape(meta)}">{html.escape(row["strategy"])}'
            + (' <span class="ref">reference</span>' if row["reference"] else "") + "</td>",
            f'<td data-value="{int(row["n"])}">{html.escape(runs_text(row))}</td>',
        ]
        for column in table_columns(table):
            mean = row[f"{column.key}:mean"]
            text = html.escape(cell_text(row, column, ci))
            if position in winners[column.key] and text != "-":
                text = f"<b>{text}</b>"
            value = "" if _missing(mean) else repr(float(mean))
            cells.append(f'<td data-value="{value}">{text}</td>')
        css = ' class="reference"' if row["reference"] else ""
        body.append(f"<tr{css}>" + "".join(cells) + "</tr>")
    attrs = ' id="leaderboard" class="sortable"' if sortable else ""
    return f"<table{attrs}><thead><tr>{head}</tr></thead><tbody>{''.join(body)}</tbody></table>"


def as_json(table: pd.DataFrame, ci: bool = False) -> str:
    """A list of rows with raw numbers (null where missing)."""
    out = []
    for _, row in table.iterrows():
        entry: dict[str, object] = {k: row[k] for k in ("scenario", "strategy", "reference", "n", "failed", "seeds", "orders", "models")}
        entry["reference"], entry["n"], entry["failed"] = bool(entry["reference"]), int(entry["n"]), int(entry["failed"])
        for column in table_columns(table):
            stats = {s: row.get(f"{column.key}:{s}") for s in (["mean", "std", "n"] + (["low", "high"] if ci else []))}
            entry[column.key] = {s: (None if _missing(v) else float(v)) for s, v in stats.items()}
        out.append(entry)
    return json.dumps(out, indent=1)


def render(table: pd.DataFrame, fmt: str, *, ci: bool = False) -> str:
    """The table in format ``fmt`` (one of FORMATS)."""
    renderers = {"md": markdown, "latex": latex, "csv": csv, "html": html_table, "json": as_json}
    return renderers[fmt](table, ci)


def summary_markdown(records: list[RunRecord], *, ci: bool = False) -> str:
    """The markdown leaderboard of ``records`` (what a run prints at the end)."""
    return markdown(sort_rows(aggregate(records, ci=ci), "acc"), ci)
