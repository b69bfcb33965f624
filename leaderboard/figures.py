"""Every leaderboard figure for a set of records: the index :func:`write_figures` (``leaderboard plots``).

The figures themselves live by concept: :mod:`leaderboard.plots` (accuracy matrices, task
curves, perplexity, forgetting against ACC), :mod:`leaderboard.example_plots`,
:mod:`leaderboard.representation_plots` and :mod:`leaderboard.scale_plots`; each draws
with :mod:`leaderboard.drawing`.
"""

from __future__ import annotations

from pathlib import Path

from benchmark.core.atomic_io import remove_stale_temp_files
from benchmark.core.errors import UserError
from benchmark.results.records import RunRecord
from leaderboard.aggregate import scenario_labels
from leaderboard.example_plots import example_flips
from leaderboard.plots import by_sequence, forgetting_scatter, matrix_heatmap, perplexity_curves, task_curves
from leaderboard.representation_plots import cka_heatmaps, layer_probe_panels, recovery_vs_forgetting
from leaderboard.scale_plots import scale_figure


def write_figures(records: list[RunRecord], out_dir: str | Path, *, heatmaps: bool = True) -> list[Path]:
    """Writes every figure for ``records`` into ``out_dir`` and returns the files written."""
    directory = Path(out_dir)
    try:
        directory.mkdir(parents=True, exist_ok=True)
    except OSError as exc:  # a read-only file system, no permission, a file in the way
        raise UserError(f"cannot write figures to {str(directory)!r} ({exc.strerror or exc}); pass a writable folder to --out") from exc
    remove_stale_temp_files(directory)  # of plots killed mid-write: they never rename, so nobody else removes them
    written: list[Path] = []
    if heatmaps:
        for record in records:
            if record.status == "finished":
                written += matrix_heatmap(record, directory)
    for (scenario, order), runs in sorted(by_sequence(records).items()):
        written += task_curves(scenario, order, runs, directory)
        written += perplexity_curves(scenario, order, runs, directory)
        written += example_flips(scenario, order, runs, directory)
        written += layer_probe_panels(scenario, order, runs, directory)
        written += cka_heatmaps(scenario, order, runs, directory)
    for scenario in sorted({label for r, label in zip(records, scenario_labels(records)) if r.status == "finished"}):
        written += forgetting_scatter(scenario, records, directory)
        written += recovery_vs_forgetting(scenario, records, directory)
    for scenario in sorted({label for r, label in zip(records, scenario_labels(records, with_model=False)) if r.status == "finished"}):
        written += scale_figure(scenario, records, directory)
    return written
