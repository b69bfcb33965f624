"""``generate``: a task is a prompt answered in free text, generated and scored by the task's answer metric.

Training is the text formulation's: the loss is over the answer tokens of each
example's own target (a free-text task's first reference, a classification task's
answer string). Scoring generates an output for every test prompt
(:mod:`benchmark.engine.free_generation`) and scores it with the task's metric
(:mod:`benchmark.results.answer_metrics`); the cell of R is the mean score, and the
outputs are stored beside it (:mod:`benchmark.results.generations`).
"""

from __future__ import annotations

import torch

from benchmark.core.config import SuiteConfig
from benchmark.core.errors import UserError
from benchmark.engine.evaluation import autocast, model_device
from benchmark.engine.formulations.base import Scoring, register_formulation
from benchmark.engine.formulations.lm_answers import LanguageModelAnswers
from benchmark.engine.free_generation import generate_outputs
from benchmark.model.backbones import Backbone
from benchmark.model.batching import eval_batch_indices
from benchmark.model.encoding import EncodedTask
from benchmark.model.free_text_encoding import encode_generation_task
from benchmark.model.task_model import TaskModel, eval_mode
from benchmark.results.answer_metrics import answer_metric
from benchmark.results.generations import SERIES as GENERATIONS, References, encode_generations, encode_references
from scenarios.prepare import TaskDataset
from scenarios.prompts import task_prompt
from scenarios.spec import ScenarioSpec, TaskSpec


def references_of(task: EncodedTask) -> References:
    """What ``task``'s outputs are scored against."""
    how = task.generation
    assert how is not None, "a task of the generate formulation carries its generation settings"
    return References(how.metric, how.references, how.sources, how.answer_pattern)


@register_formulation
class Generate(LanguageModelAnswers):
    """Tasks answered in free text: generated (greedy, sampled or beam) and scored by each task's metric (ROUGE-L, SARI, exact match, ...)."""

    name = "generate"
    row0 = "the pretrained model's zero-shot outputs from the prompt, scored by each task's metric; the pretrained perplexity"
    default_decode = "greedy"
    free_text = True

    def check_config(self, config: SuiteConfig) -> None:
        if config.decode not in (None, "greedy", "sample", "beam"):
            raise UserError(f"--decode {config.decode} ranks fixed answers; --formulation generate decodes greedy, sample or beam")
        if config.setting == "class_incremental":
            raise UserError("--setting class_incremental lets the classes of every task compete, but free-text tasks have no classes; use task_incremental")

    def check_scenario(self, spec: ScenarioSpec) -> None:
        for task in spec.tasks:
            where = f"scenario {spec.name!r}: task {task.name!r}"
            metric = answer_metric(task.metric)  # an unknown name is refused with close matches
            if metric.needs_source and not task.source_field:
                raise UserError(f"{where}: metric {task.metric!r} compares the output with its source text, but the task names no source_field; add it")

    def encode_tasks(
        self, backbone: Backbone, datasets: list[TaskDataset], spec: ScenarioSpec, ordered: list[TaskSpec], setting: str,
    ) -> list[EncodedTask]:
        return [encode_generation_task(backbone, d, task_prompt(spec, t), k) for k, (d, t) in enumerate(zip(datasets, ordered))]

    def fingerprint_parts(self, config: SuiteConfig, tasks: list[EncodedTask]) -> dict[str, object]:
        """The decoding rule, each task's prompt, and how its outputs are made and scored."""
        made = [
            (t.generation.metric, t.generation.answer_pattern, list(t.generation.stop), t.generation.max_new_tokens, t.generation.correct_at)
            for t in tasks if t.generation
        ]
        return {"formulation": self.name, "decode": config.decode, "prompts": [t.text.prompt_hash for t in tasks if t.text], "generation": made}

    def extra_series(self, config: SuiteConfig) -> tuple[str, ...]:
        return (GENERATIONS,)

    def record_extra(self, tasks: list[EncodedTask]) -> dict[str, object]:
        """Every task's references, sources, metric and answer pattern, so validate can rescore the stored outputs; its prompt's hash."""
        return {
            "references": {t.name: encode_references(references_of(t)) for t in tasks},
            "prompts": {t.name: t.text.prompt_hash for t in tasks if t.text is not None},
        }

    def score(self, model: TaskModel, tasks: list[EncodedTask], row: int, column: int, scoring: Scoring) -> dict[str, float | str]:
        task, config = tasks[column], scoring.config
        how = task.generation
        assert how is not None and config.decode is not None
        prompts = model.contexts.get(task.name, task.test.input_ids)
        batches = eval_batch_indices([len(p) for p in prompts], config.eval.batch_size)
        outputs: dict[int, str] = {}
        device = model_device(model)
        with eval_mode(model), torch.inference_mode(), autocast(scoring.precision, device):
            for indices in scoring.parallel.shard(batches) if scoring.parallel is not None else batches:
                texts = generate_outputs(
                    model, [prompts[i] for i in indices], scoring.backbone.tokenizer, how, head=task.head, decode=config.decode,
                    seed=(task.data_hash, row, indices[0]),  # the data hash differs between the run's seeds
                )
                outputs.update(zip(indices, texts))
        if scoring.parallel is not None:
            outputs = scoring.parallel.gather(outputs)
        ordered = [outputs[i] for i in range(len(prompts))]
        scores = references_of(task).scores(ordered)
        return {"accuracy": sum(scores) / len(scores), GENERATIONS: encode_generations(ordered, scores, how.correct_at)}
