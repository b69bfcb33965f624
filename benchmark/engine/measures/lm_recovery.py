"""``lm_recovery``: how fast language modelling comes back after fine-tuning (the EleutherAI thread's proposition).

At row 0 and after the last task, a copy of the model trains on the language-model loss
of held-out general-corpus text (documents after the ones the perplexity windows come
from, so disjoint from them) for :data:`CHECKPOINTS`'s last step, and the general-corpus
perplexity is measured at each checkpoint step (0 first: exactly the perplexity the
``perplexity`` measure records). The run's model is never touched: recovery trains a
deep copy, every backbone weight on the language-model path (so a strategy's frozen
weights train too), with AdamW at the run's learning rate (constant), gradient clipping
and precision, through the trainer's step (:mod:`benchmark.engine.finetune`), :data:`BATCH_WINDOWS` windows
of ``eval.ppl_context`` tokens a step, in a fixed order. Row 0's curve is the pretrained
model's own: what the same budget does without any forgetting to undo (the corpus's
domain alone lowers perplexity). Memory: a copy of the model and its optimizer state.
"""

from __future__ import annotations

from typing import Any

import torch

from benchmark.core.errors import UserError
from benchmark.core.hashing import derived_seed
from benchmark.engine.finetune import finetune_copy
from benchmark.engine.measures.base import Measure, MeasureEnv, MeasurePoint, register_measure
from benchmark.engine.measures.perplexity import general_perplexity
from benchmark.model.batching import pad_batch
from benchmark.model.encoding import EncodedCorpus, encode_corpus
from benchmark.model.task_model import TaskModel
from benchmark.results.representation_metrics import RECOVERY_CHECKPOINTS

CHECKPOINTS = RECOVERY_CHECKPOINTS  # defined beside the metrics that read the curve
BATCH_WINDOWS = 2


def recovery_curve(model: TaskModel, env: MeasureEnv, held_out: EncodedCorpus) -> list[float]:
    """Perplexity at every step of :data:`CHECKPOINTS` while a copy of ``model`` trains on ``held_out``'s windows."""
    tokenizer = env.backbone.tokenizer
    windows = held_out.windows
    train = env.config.train

    def batch(step: int) -> dict[str, Any]:
        chosen = [windows[(step * BATCH_WINDOWS + k) % len(windows)] for k in range(BATCH_WINDOWS)]
        input_ids, attention_mask = pad_batch(chosen, env.pad_id)
        return {"input_ids": input_ids, "attention_mask": attention_mask, "step": step}

    def lm_loss(trainee: TaskModel, batch: dict[str, Any]) -> torch.Tensor:
        nll, count = trainee.lm_nll(
            batch["input_ids"], batch["attention_mask"], generator=torch.Generator().manual_seed(derived_seed("lm recovery", batch["step"])),
            mask_token_id=tokenizer.mask_token_id, special_ids=tokenizer.all_special_ids,
        )
        return nll / max(count, 1)

    def every_backbone_weight(trainee: TaskModel) -> list[dict[str, Any]]:
        parameters = list(trainee.backbone.parameters())
        for parameter in parameters:
            parameter.requires_grad_(True)  # a strategy's frozen weights relearn too
        return [{"params": parameters, "lr": train.lr}]

    curve: list[float] = []

    def measure_at_checkpoints(step: int, trainee: TaskModel) -> None:
        if step in CHECKPOINTS:
            curve.append(general_perplexity(trainee, env).perplexity)

    finetune_copy(
        model, (batch(step) for step in range(CHECKPOINTS[-1])), lm_loss, groups=every_backbone_weight, weight_decay=0.0,
        max_grad_norm=train.max_grad_norm, precision=env.precision, parallel=env.parallel, after_step=measure_at_checkpoints,
    )
    return curve


@register_measure("lm_recovery")
class LmRecovery(Measure):
    """Perplexity while a copy of the model relearns language modelling, at steps 0, 1, 2, 4, ..., 32 (row 0 and the last row)."""

    series = {"lm_recovery": "per_row"}
    after = "last_task"
    needs_lm_head = True

    def __init__(self) -> None:
        self._held_out: EncodedCorpus | None = None

    def check_setup(self, env: MeasureEnv, test_sizes: dict[str, int]) -> None:
        if env.corpus is None:
            raise UserError(
                "measure 'lm_recovery' measures general-corpus perplexity, but this suite has none (eval.ppl_tokens is 0 or the scenario "
                "names no perplexity corpus); set --ppl-tokens above 0 with a scenario that has one, or leave 'lm_recovery' out of --measures"
            )
        if not env.general_texts:
            raise UserError(
                f"measure 'lm_recovery' trains on general-corpus documents after the perplexity windows, but eval.ppl_tokens "
                f"({env.config.eval.ppl_tokens}) uses up the whole corpus; lower --ppl-tokens or leave 'lm_recovery' out of --measures"
            )

    def measure(self, model: TaskModel, point: MeasurePoint, env: MeasureEnv) -> dict[str, Any]:
        if env.corpus is None or not env.general_texts:
            return {"lm_recovery": None}
        if self._held_out is None:
            context = env.config.eval.ppl_context
            self._held_out = encode_corpus(env.backbone, env.general_texts, context=context, budget=BATCH_WINDOWS * CHECKPOINTS[-1] * context)
        return {"lm_recovery": recovery_curve(model, env, self._held_out)}
