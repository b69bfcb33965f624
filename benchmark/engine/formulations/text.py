"""``text``: a task is a prompt and answer strings, learned and scored through the language model's own head."""

from __future__ import annotations

from benchmark.core.config import SuiteConfig
from benchmark.core.errors import UserError
from benchmark.engine.formulations.base import Scoring, register_formulation
from benchmark.engine.formulations.lm_answers import LanguageModelAnswers
from benchmark.engine.text_evaluation import TextEval, competing_classes, text_task_accuracy
from benchmark.model.backbones import Backbone
from benchmark.model.encoding import EncodedTask
from benchmark.model.task_model import TaskModel
from benchmark.model.text_encoding import encode_text_tasks
from scenarios.prepare import TaskDataset
from scenarios.prompts import task_prompt
from scenarios.spec import ScenarioSpec, TaskSpec


@register_formulation
class Text(LanguageModelAnswers):
    """Tasks as prompts and answer strings: the answers' tokens are the loss; answers are ranked by likelihood or generated greedily."""

    name = "text"
    encoder_advice = "use a causal LM (e.g. smollm2-135m), a seq2seq model (e.g. a T5), or --formulation heads"
    row0 = "the pretrained model answering zero-shot from the prompt (no demonstrations), the pretrained perplexity"

    def check_config(self, config: SuiteConfig) -> None:
        if config.decode not in (None, "rank", "greedy"):
            raise UserError(f"--decode {config.decode} generates free text, so it needs --formulation generate; the text formulation ranks or decodes greedily")

    def encode_tasks(
        self, backbone: Backbone, datasets: list[TaskDataset], spec: ScenarioSpec, ordered: list[TaskSpec], setting: str,
    ) -> list[EncodedTask]:
        return encode_text_tasks(backbone, datasets, [task_prompt(spec, t) for t in ordered], setting)  # type: ignore[arg-type]

    def fingerprint_parts(self, config: SuiteConfig, tasks: list[EncodedTask]) -> dict[str, object]:
        """The formulation, the decoding rule and each task's prompt (heads add nothing, so their fingerprints predate this)."""
        return {"formulation": config.formulation, "decode": config.decode, "prompts": [t.text.prompt_hash for t in tasks]}

    def extra_series(self, config: SuiteConfig) -> tuple[str, ...]:
        return ("accuracy_per_byte",) if config.decode == "rank" else ("invalid_outputs",)

    def score(self, model: TaskModel, tasks: list[EncodedTask], row: int, column: int, scoring: Scoring) -> dict[str, float | str]:
        config = scoring.config
        how = TextEval(decode=config.decode, backbone=scoring.backbone, batch_size=config.eval.batch_size, precision=scoring.precision, parallel=scoring.parallel)
        return text_task_accuracy(model, tasks[column], competing_classes(tasks, row, column, config.setting), how)
