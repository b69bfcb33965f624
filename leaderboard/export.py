"""``leaderboard export --parquet DIR``: the records as a Parquet dataset with a dataset card, ready to push to a hub.

One row per run, written by the ``datasets`` library: who the run is (model, scenario,
how tasks were posed, order, strategy, seed), its accuracy matrix and perplexity per
row as nested lists, every per-example outcome series as nested lists of the encoded
cells, the metrics as (name, value) pairs, and the whole record as JSON, so nothing
is lost and ``RunRecord.from_json(json.loads(row["record"]))`` gives the record back.
The folder is the Hugging Face layout (``data/train-00000-of-00001.parquet`` and a
``README.md`` card whose YAML names the split). It is built beside ``DIR`` and renamed
into place, so an interrupted export leaves nothing half-written.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from pathlib import Path

from benchmark.core.environment import git_hash
from benchmark.core.errors import UserError
from benchmark.results.outcomes import SUFFIX as OUTCOME_SUFFIX
from benchmark.results.records import RunRecord
from leaderboard.aggregate import posed_as

DATA_FILE = "data/train-00000-of-00001.parquet"


def record_row(record: RunRecord) -> dict[str, object]:
    """One record as a row of the dataset."""
    outcomes = {name: series for name, series in record.measures.items() if name.endswith(OUTCOME_SUFFIX)}
    return {
        "run_id": record.run_id, "model": record.model, "scenario": record.scenario, "scenario_version": record.scenario_version,
        "posed_as": posed_as(record).strip(" ()") or "heads", "order": record.order, "strategy": record.strategy, "seed": record.seed,
        "status": record.status, "reference": record.reference, "fingerprint": record.fingerprint,
        "commit": (record.environment or {}).get("git_hash"), "tasks": list(record.tasks),
        "accuracy_matrix": record.accuracy_matrix, "perplexity": record.perplexity,
        "outcomes": [{"series": name, "rows": rows} for name, rows in sorted(outcomes.items())],
        "metrics": [{"name": k, "value": float(v)} for k, v in sorted(record.metrics.items()) if isinstance(v, (int, float))],
        "total_seconds": record.total_seconds, "record": json.dumps(record.to_json(), sort_keys=True),
    }


def dataset_card(records: list[RunRecord]) -> str:
    """The README.md of the exported dataset: its YAML header and what the columns hold."""
    def listed(values: set[object]) -> str:
        return ", ".join(sorted(map(str, values)))

    return f"""---
configs:
- config_name: default
  data_files:
  - split: train
    path: {DATA_FILE}
tags:
- continual-learning
- catastrophic-forgetting
- forgetbench
---

# forgetbench run records

{len(records)} run(s) of the forgetbench continual-learning forgetting benchmark, exported by
`forgetbench leaderboard export` at commit {git_hash()}.

- models: {listed({r.model for r in records})}
- scenarios: {listed({r.scenario for r in records})}
- strategies: {listed({r.strategy for r in records})}
- seeds: {listed({r.seed for r in records})}

One row per run. `accuracy_matrix[i][j]` is the score (0-1) on task j after training on
the first i tasks (row 0: the pretrained model; null: not evaluated); `perplexity[i]` the
general-corpus perplexity after row i; `outcomes` the per-example outcome series, each
cell encoded as the record stores it; `metrics` the record's summary metrics (ACC, BWT,
forgetting, ...); `record` the whole record as JSON (configuration, environment, data
hashes, timings), which forgetbench reads back with `RunRecord.from_json`.
"""


def export_parquet(records: list[RunRecord], out: str | Path) -> Path:
    """Writes ``records`` as a Parquet dataset with its card into ``out`` (which must not exist or be empty); returns the folder."""
    from datasets import Dataset

    target = Path(out)
    if target.exists() and (not target.is_dir() or any(target.iterdir())):
        raise UserError(f"--parquet {str(out)!r} already exists and is not an empty folder; pass a new folder to --parquet")
    target.parent.mkdir(parents=True, exist_ok=True)
    building = Path(tempfile.mkdtemp(prefix=f".{target.name}.", dir=target.parent))
    try:
        (building / "data").mkdir()
        Dataset.from_list([record_row(r) for r in records]).to_parquet(str(building / DATA_FILE))
        (building / "README.md").write_text(dataset_card(records), encoding="utf-8")
        if target.exists():
            target.rmdir()  # empty, checked above
        os.replace(building, target)
    finally:
        shutil.rmtree(building, ignore_errors=True)
    return target
