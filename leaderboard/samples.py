"""``leaderboard samples``: every stored free-text output as one JSON line, like lm-evaluation-harness's ``--log_samples``.

A line is one test example of one task at one row of one run: which run (its id,
scenario, strategy, order, seed), the row (0: before training; t: after task t), the
task, the example's position in the task's test split (its id: the same example in
every run of the same data, which ``data_hash`` names), the task's prompt (the hash of
its template, where the record stores it), the output, the answer read from it (after
``answer_pattern``), the references, the score and whether it counts as right. Lines
come in record, row, task, example order, so the file is the same for the same records.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

from benchmark.core.errors import UserError
from benchmark.results.answer_metrics import extracted
from benchmark.results.generations import SERIES as GENERATIONS, decode_generations, decode_references
from benchmark.results.records import RunRecord


def record_samples(record: RunRecord) -> Iterator[dict[str, Any]]:
    """The sample lines of one record (none for a record without free-text outputs)."""
    stored_references = record.extra.get("references") or {}
    prompts = record.extra.get("prompts") or {}
    for row, cells in enumerate(record.measures.get(GENERATIONS) or []):
        for column, cell in enumerate(cells or []):
            if cell is None:
                continue
            task = record.tasks[column]
            got, against = decode_generations(cell), decode_references(stored_references[task])
            for example, (output, score) in enumerate(zip(got.outputs, got.scores)):
                yield {
                    "run": record.run_id, "scenario": record.scenario, "strategy": record.strategy, "order": record.order, "seed": record.seed,
                    "row": row, "task": task, "data_hash": record.data_hashes.get(task), "example_id": example, "prompt_id": prompts.get(task),
                    "output": output, "answer": extracted(output, against.answer_pattern), "references": against.references[example],
                    "metric": against.metric, "score": score, "correct": score >= got.correct_at,
                }


def samples_jsonl(records: list[RunRecord]) -> str:
    """The JSON lines of every record's free-text outputs.

    Raises:
        UserError: When no record stores free-text outputs.
    """
    lines = [json.dumps(sample, ensure_ascii=False) for record in sorted(records, key=lambda r: r.run_id) for sample in record_samples(record)]
    if not lines:
        raise UserError(
            "no record there stores free-text outputs (they come from runs with --formulation generate); "
            "pass the --out directory of such a run to --results"
        )
    return "\n".join(lines) + "\n"
