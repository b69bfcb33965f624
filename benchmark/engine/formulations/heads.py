"""``heads``: a linear classification head per task (or one shared head) on the backbone's pooled features."""

from __future__ import annotations

from collections.abc import Callable

import torch
import torch.nn.functional as F

from benchmark.core.config import SuiteConfig
from benchmark.core.errors import UserError
from benchmark.engine.evaluation import autocast, model_device, task_choices
from benchmark.engine.formulations.base import Formulation, Scoring, register_formulation
from benchmark.engine.representations import LayerFeatures
from benchmark.model.backbones import Backbone
from benchmark.model.encoding import EncodedTask, encode_tasks, head_sizes
from benchmark.model.task_model import TaskModel, eval_mode
from benchmark.results.outcomes import SERIES as OUTCOMES, scored
from scenarios.prepare import TaskDataset
from scenarios.spec import ScenarioSpec, TaskSpec


@register_formulation
class Heads(Formulation):
    """A linear head per task (class-incremental: one shared head) reads the backbone's pooled features (default)."""

    name = "heads"
    row0 = "the pretrained backbone with freshly initialised (untrained) heads: chance accuracy, the pretrained perplexity"
    scores_from_features = True

    def check_config(self, config: SuiteConfig) -> None:
        if config.decode not in (None, "rank"):
            raise UserError(f"--decode {config.decode} chooses how text answers are scored, so it needs --formulation text; add it or leave --decode out")

    def check_scenario(self, spec: ScenarioSpec) -> None:
        super().check_scenario(spec)
        for task in spec.tasks:
            if task.truncation_side != "right":
                raise UserError(
                    f"scenario {spec.name!r}: task {task.name!r} sets truncation_side: {task.truncation_side}, which cuts prompts; "
                    "heads read the bare text cut at its end, so remove it or pass --formulation text or generate"
                )

    def check_backbone(self, config: SuiteConfig, kind: str) -> None:
        if kind == "seq2seq":
            raise UserError(f"model {config.model!r} is an encoder-decoder (seq2seq), which poses tasks as text only; add --formulation text")

    def encode_tasks(
        self, backbone: Backbone, datasets: list[TaskDataset], spec: ScenarioSpec, ordered: list[TaskSpec], setting: str,
    ) -> list[EncodedTask]:
        return encode_tasks(backbone, datasets, setting)  # type: ignore[arg-type]

    def fingerprint_parts(self, config: SuiteConfig, tasks: list[EncodedTask]) -> dict[str, object]:
        """Nothing: heads came first, and their fingerprints predate formulations."""
        return {}

    def head_sizes(self, tasks: list[EncodedTask]) -> dict[str, int]:
        return head_sizes(tasks)

    def loss(self, model: TaskModel, batch: dict[str, object], head: str) -> tuple[torch.Tensor, torch.Tensor]:
        """Cross-entropy over the head's classes, and the class logits."""
        logits = model(batch["input_ids"], batch["attention_mask"], head)
        return F.cross_entropy(logits.float(), batch["labels"]), logits

    def score(self, model: TaskModel, tasks: list[EncodedTask], row: int, column: int, scoring: Scoring) -> dict[str, float | str]:
        """The argmax of the task's head over its test split, in a pass of its own."""
        task = tasks[column]
        chosen = task_choices(
            model, task, pad_id=scoring.backbone.pad_id, batch_size=scoring.config.eval.batch_size,
            precision=scoring.precision, parallel=scoring.parallel,
        )
        return _values(task, chosen)

    def score_features(self, model: TaskModel, task: EncodedTask, features: Callable[[], LayerFeatures], scoring: Scoring) -> dict[str, float | str]:
        """The task's head on the final-layer features other measures of this point read too (one pass over the test split, not two)."""
        final = features().final
        device = model_device(model)
        head = model.heads[task.head]
        # The head under the same autocast as the plain pass, so the accuracy is the one it gives.
        with eval_mode(model), torch.inference_mode(), autocast(scoring.precision, device):
            logits = head(final.to(device))
        return _values(task, logits.argmax(dim=-1).cpu().tolist())


def _values(task: EncodedTask, chosen: list[int]) -> dict[str, float | str]:
    """``accuracy`` and the ``outcomes`` cell of the classes a task's head chose for its test examples."""
    accuracy, cell = scored(task.test.labels, chosen)
    return {"accuracy": accuracy, OUTCOMES: cell}
