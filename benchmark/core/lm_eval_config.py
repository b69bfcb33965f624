"""Settings of the ``lm_eval`` measure (general ability through lm-evaluation-harness): the ``lm_eval:`` config section."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

from benchmark.core.errors import UserError

# The harness's own offline tasks (held-out zero-shot tasks over files in the cl_benchmark layout): one YAML
# each in benchmark/engine/lm_eval_tasks/ (tests/runs/test_lm_eval_measure.py checks the two lists agree).
LOCAL_TASKS = ["fb_copa", "fb_boolq", "fb_cb", "fb_rte", "fb_sst2"]


@dataclass
class LmEvalConfig:
    """Which lm-evaluation-harness tasks score the model's general ability, and how.

    ``tasks`` are lm-eval task names: any registered one (``hellaswag``, ``arc_easy``,
    ``mmlu``: their data come from the hub, so they need a network) or the harness's own
    offline ones (``fb_copa``, ``fb_boolq``, ``fb_cb``, ``fb_rte``, ``fb_sst2``), which
    read ``<data_dir>/<TASK>/test.json`` (and ``train.json`` for few-shot examples) in the
    cl_benchmark layout. ``limit`` caps the examples per task (None: all);
    ``after`` is ``last_task`` (row 0 and the last row) or ``every_task``.
    """

    tasks: list[str] = field(default_factory=lambda: list(LOCAL_TASKS))
    data_dir: str | None = None
    limit: int | None = 100
    num_fewshot: int = 0
    batch_size: int = 8
    after: Literal["last_task", "every_task"] = "last_task"

    def check(self, source: str) -> None:
        """Refuses values out of range in one sentence each."""
        if not self.tasks:
            raise UserError(f"{source}: field 'lm_eval.tasks' is empty; name at least one lm-eval task, e.g. fb_copa")
        if self.limit is not None and self.limit < 1:
            raise UserError(f"{source}: field 'lm_eval.limit' must be at least 1 (or null for every example), got {self.limit}")
        if self.num_fewshot < 0 or self.batch_size < 1:
            raise UserError(f"{source}: 'lm_eval.num_fewshot' must be 0 or more and 'lm_eval.batch_size' at least 1")
        twice = sorted({t for t in self.tasks if self.tasks.count(t) > 1})
        if twice:
            raise UserError(f"{source}: field 'lm_eval.tasks' lists {twice[0]!r} twice; list it once")
