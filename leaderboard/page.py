"""A static, self-contained HTML leaderboard page: sortable table, figures inlined, run metadata.

One file with its CSS, JavaScript and SVG figures inside; it opens from disk in any
browser without a server. Clicking a column header sorts by it (again: reverse).
"""

from __future__ import annotations

import datetime as dt
import html
import tempfile
from pathlib import Path

import pandas as pd

from benchmark.results.records import RunRecord
from leaderboard.aggregate import scenario_labels
from leaderboard.formats import html_table
from leaderboard.plots import by_sequence, forgetting_scatter, matrix_heatmap, perplexity_curves, task_curves

STYLE = """
body { font-family: system-ui, sans-serif; margin: 2rem; color: #222; }
table { border-collapse: collapse; font-size: 0.9rem; }
th, td { padding: 0.3rem 0.6rem; border-bottom: 1px solid #ddd; text-align: right; }
th:nth-child(-n+2), td:nth-child(-n+2) { text-align: left; }
th { cursor: pointer; background: #f4f4f4; user-select: none; }
th.sorted-asc::after { content: " ▲"; } th.sorted-desc::after { content: " ▼"; }
tr.reference td { color: #666; font-style: italic; }
.ref { font-size: 0.7rem; border: 1px solid #999; border-radius: 3px; padding: 0 0.2rem; font-style: normal; }
figure { display: inline-block; margin: 1rem 1rem 0 0; vertical-align: top; }
figure svg { max-width: 720px; height: auto; }
details { margin-top: 1.5rem; }
"""

# Sorts rows by the clicked column's data-value (numbers numerically, text alphabetically);
# empty values (missing metrics) always go last. A second click reverses the order.
SCRIPT = """
document.querySelectorAll('table.sortable').forEach(function (table) {
  table.querySelectorAll('th').forEach(function (th, index) {
    th.addEventListener('click', function () {
      var descending = !th.classList.contains('sorted-desc');
      table.querySelectorAll('th').forEach(function (h) { h.classList.remove('sorted-asc', 'sorted-desc'); });
      th.classList.add(descending ? 'sorted-desc' : 'sorted-asc');
      var body = table.tBodies[0];
      var rows = Array.prototype.slice.call(body.rows);
      rows.sort(function (a, b) {
        var x = a.cells[index].dataset.value, y = b.cells[index].dataset.value;
        if (x === '' && y === '') return 0;
        if (x === '') return 1;
        if (y === '') return -1;
        var nx = parseFloat(x), ny = parseFloat(y);
        var cmp = (!isNaN(nx) && !isNaN(ny)) ? nx - ny : x.localeCompare(y);
        return descending ? -cmp : cmp;
      });
      rows.forEach(function (row) { body.appendChild(row); });
    });
  });
});
"""


def _inline_svg(path: Path) -> str:
    text = path.read_text(encoding="utf-8")
    start = text.find("<svg")
    return text[start:] if start >= 0 else ""


def _figures(records: list[RunRecord]) -> list[tuple[str, str]]:
    """(caption, inline SVG) of the summary figures and of one heatmap per strategy."""
    figures: list[tuple[str, str]] = []
    with tempfile.TemporaryDirectory() as tmp:
        directory = Path(tmp)
        for (scenario, order), runs in sorted(by_sequence(records).items()):
            svg = [p for p in perplexity_curves(scenario, order, runs, directory) if p.suffix == ".svg"][0]
            figures.append((f"{scenario}, order {order}: perplexity ratio after each task", _inline_svg(svg)))
            svg = [p for p in task_curves(scenario, order, runs, directory) if p.suffix == ".svg"][0]
            figures.append((f"{scenario}, order {order}: accuracy on each task across the sequence", _inline_svg(svg)))
        for scenario in sorted({label for r, label in zip(records, scenario_labels(records)) if r.status == "finished"}):
            svg = [p for p in forgetting_scatter(scenario, records, directory) if p.suffix == ".svg"][0]
            figures.append((f"{scenario}: forgetting vs ACC", _inline_svg(svg)))
        shown: set[tuple[str, str]] = set()
        for record in sorted(records, key=lambda r: (r.scenario, r.strategy, r.order, r.seed)):
            if record.status != "finished" or (record.scenario, record.strategy) in shown:
                continue
            shown.add((record.scenario, record.strategy))
            svg = [p for p in matrix_heatmap(record, directory) if p.suffix == ".svg"][0]
            figures.append((f"accuracy matrix: {record.run_id}", _inline_svg(svg)))
    return figures


def _runs_table(records: list[RunRecord]) -> str:
    head = "".join(f"<th>{h}</th>" for h in ("run", "status", "model", "seed", "order", "time (s)", "git", "torch", "transformers", "created"))
    rows = []
    for r in sorted(records, key=lambda r: r.run_id):
        packages = r.environment.get("packages", {}) if isinstance(r.environment, dict) else {}
        cells = [r.run_id, r.status + (f": {r.error}" if r.error else ""), r.model, r.seed, r.order, f"{r.total_seconds:.1f}",
                 str(r.environment.get("git_hash") if isinstance(r.environment, dict) else ""), packages.get("torch"), packages.get("transformers"), r.created_at]
        rows.append("<tr>" + "".join(f"<td>{html.escape(str(c))}</td>" for c in cells) + "</tr>")
    return f"<table class=\"sortable runs\"><thead><tr>{head}</tr></thead><tbody>{''.join(rows)}</tbody></table>"


def build_page(table: pd.DataFrame, records: list[RunRecord], *, ci: bool = False, title: str = "forgetbench leaderboard") -> str:
    """The complete HTML document."""
    figures = "".join(f"<figure>{svg}<figcaption>{html.escape(caption)}</figcaption></figure>" for caption, svg in _figures(records))
    stamp = dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    return (
        f"<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>{html.escape(title)}</title>"
        f"<style>{STYLE}</style></head><body><h1>{html.escape(title)}</h1>"
        f"<p>{len(records)} run record(s), generated {stamp}. Click a column header to sort; hover a strategy for its seeds, orders and model. "
        "Best value per column in bold; reference rows (joint, frozen) in grey are bounds, not contenders.</p>"
        f"{html_table(table, ci, sortable=True)}<h2>Figures</h2>{figures}"
        f"<details open><summary>Runs</summary>{_runs_table(records)}</details>"
        f"<script>{SCRIPT}</script></body></html>"
    )
