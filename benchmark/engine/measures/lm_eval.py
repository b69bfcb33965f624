"""``lm_eval``: general ability through lm-evaluation-harness (TRACE's general-ability delta; Luo et al. 2023).

At row 0 and after the last task (``lm_eval.after: every_task``: after every task) the
model is scored by lm-eval's own ``simple_evaluate`` on ``lm_eval.tasks``, in memory
(:mod:`benchmark.engine.general_ability`). What is scored is the model's language
model as it stands: in the heads formulation the backbone's LM head (task heads play no
part, adapters and LoRA sets are routed off: ``TaskModel.language_model_path``); in the
text formulation the model as it answers, with the adapter or LoRA set of the task
trained last active (the set a user of the model would be left with). Series
``lm_eval``: per measured row, lm-eval's accuracy on each task in ``lm_eval.tasks``
order; ``lm_eval_outcomes``: per row and task, each example's gold and chosen answer
(so ``validate`` recomputes the accuracies). Every process scores every example.
"""

from __future__ import annotations

from typing import Any

from benchmark.core.config import SuiteConfig
from benchmark.engine.general_ability import check_settings, evaluate
from benchmark.engine.measures.base import Measure, MeasureEnv, MeasurePoint, register_measure
from benchmark.model.task_model import TaskModel, eval_mode
from benchmark.results.outcomes import encode

BACKENDS = {"causal": "causal", "seq2seq": "seq2seq"}


@register_measure("lm_eval")
class LmEval(Measure):
    """lm-eval accuracy on named tasks at row 0 and after the last task (or every task)."""

    series = {"lm_eval": "per_row", "lm_eval_outcomes": "per_row"}
    after = "last_task"
    needs_lm_head = True
    model_kinds = ("causal", "seq2seq")

    @classmethod
    def check(cls, config: SuiteConfig, source: str) -> None:
        check_settings(config.lm_eval, source)

    @classmethod
    def after_for(cls, config: SuiteConfig | None) -> str:
        return cls.after if config is None else config.lm_eval.after

    def measure(self, model: TaskModel, point: MeasurePoint, env: MeasureEnv) -> dict[str, Any]:
        settings = env.config.lm_eval
        with eval_mode(model), model.language_model_path():
            scores = evaluate(model.backbone, env.backbone.tokenizer, settings, backend=BACKENDS[model.kind], precision=env.precision,
                              progress=env.config.progress)
        return {
            "lm_eval": [scores.accuracy[t] for t in settings.tasks],
            "lm_eval_outcomes": [encode(scores.gold[t], scores.chosen[t]) for t in settings.tasks],
        }
