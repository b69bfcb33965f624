"""``perplexity``: perplexity and bits per byte of the held-out general corpus (pretraining forgetting)."""

from __future__ import annotations

import math
from typing import Any

from benchmark.engine.evaluation import LanguageModelScore, corpus_perplexity
from benchmark.engine.measures.base import Measure, MeasureEnv, MeasurePoint, register_measure
from benchmark.model.task_model import TaskModel


def general_perplexity(model: TaskModel, env: MeasureEnv) -> LanguageModelScore:
    """Perplexity and bits per byte of the suite's general corpus (which must be there) under the run's evaluation settings."""
    assert env.corpus is not None
    tokenizer = env.backbone.tokenizer
    return corpus_perplexity(
        model, env.corpus, pad_id=env.pad_id, batch_size=env.config.eval.ppl_batch_size, precision=env.precision,
        mask_token_id=tokenizer.mask_token_id, special_ids=tokenizer.all_special_ids, parallel=env.parallel,
    )


@register_measure("perplexity")
class Perplexity(Measure):
    """General-corpus perplexity and bits per byte (masked-LM perplexity, and no bits per byte, for encoders)."""

    series = {"perplexity": "per_row", "bits_per_byte": "per_row"}
    needs_lm_head = True

    def measure(self, model: TaskModel, point: MeasurePoint, env: MeasureEnv) -> dict[str, Any]:
        if env.corpus is None:
            return {"perplexity": None, "bits_per_byte": None}
        score = general_perplexity(model, env)
        return {"perplexity": score.perplexity, "bits_per_byte": score.bits_per_byte}

    def divergence(self, values: dict[str, Any]) -> tuple[str, Any] | None:
        # A finite training loss can still leave weights whose perplexity overflows: the run diverged.
        perplexity, bits = values["perplexity"], values["bits_per_byte"]
        if perplexity is not None and not (math.isfinite(perplexity) and (bits is None or math.isfinite(bits))):
            return "the general-corpus perplexity", perplexity
        return None
