"""Evaluation after each task: accuracy on tasks and perplexity on the general corpus."""

from __future__ import annotations

import contextlib
import math
from dataclasses import dataclass

import torch

from benchmark.backbones import Backbone
from benchmark.batching import eval_batch_indices, pad_batch
from benchmark.config import SuiteConfig
from benchmark.encoding import EncodedCorpus, EncodedTask
from benchmark.task_model import TaskModel

MLM_EVAL_SEED = 0


def autocast(precision: str, device: torch.device | str) -> contextlib.AbstractContextManager[object]:
    """bf16 autocast when asked for, else a no-op context."""
    if precision == "bf16":
        return torch.autocast(device_type=torch.device(device).type, dtype=torch.bfloat16)
    return contextlib.nullcontext()


def model_device(model: torch.nn.Module) -> torch.device:
    """The device of the model's first parameter."""
    return next(model.parameters()).device


def task_accuracy(model: TaskModel, task: EncodedTask, *, pad_id: int, batch_size: int, precision: str = "fp32") -> float:
    """Accuracy of ``model`` on the test split of ``task`` (argmax over the task's head)."""
    device = model_device(model)
    was_training = model.training
    model.eval()
    correct = 0
    with torch.inference_mode(), autocast(precision, device):
        for indices in eval_batch_indices(task.test.lengths, batch_size):
            batch = task.test.batch(indices, pad_id)
            logits = model(batch["input_ids"].to(device), batch["attention_mask"].to(device), task.head)
            correct += int((logits.argmax(dim=-1).cpu() == batch["labels"]).sum())
    model.train(was_training)
    return correct / len(task.test)


@dataclass
class LanguageModelScore:
    """Perplexity and bits per byte of the general corpus (bits per byte is None for encoders)."""

    perplexity: float
    bits_per_byte: float | None


def corpus_perplexity(
    model: TaskModel, corpus: EncodedCorpus, *, pad_id: int, batch_size: int, precision: str = "fp32",
    mask_token_id: int | None = None, special_ids: list[int] | None = None,
) -> LanguageModelScore:
    """Perplexity of the general corpus; for encoders, masked-LM perplexity over a fixed 15% of tokens."""
    device = model_device(model)
    was_training = model.training
    model.eval()
    generator = torch.Generator().manual_seed(MLM_EVAL_SEED)
    total_nll = 0.0
    total_tokens = 0
    with torch.inference_mode(), autocast(precision, device):
        for indices in eval_batch_indices([len(w) for w in corpus.windows], batch_size):
            input_ids, attention_mask = pad_batch([corpus.windows[i] for i in indices], pad_id)
            nll, count = model.lm_nll(
                input_ids.to(device), attention_mask.to(device), generator=generator,
                mask_token_id=mask_token_id, special_ids=special_ids,
            )
            total_nll += float(nll)
            total_tokens += count
    model.train(was_training)
    perplexity = math.exp(total_nll / max(total_tokens, 1))
    bits = total_nll / (math.log(2) * corpus.n_bytes) if model.kind == "causal" else None
    return LanguageModelScore(perplexity=perplexity, bits_per_byte=bits)


@dataclass
class Evaluator:
    """Scores a model on tasks and on the general corpus with the suite's settings."""

    backbone: Backbone
    corpus: EncodedCorpus | None
    config: SuiteConfig

    def accuracy(self, model: TaskModel, task: EncodedTask) -> float:
        """Test accuracy of ``model`` on ``task``."""
        return task_accuracy(model, task, pad_id=self.backbone.pad_id, batch_size=self.config.eval.batch_size, precision=self.config.train.precision)

    def language_model(self, model: TaskModel) -> tuple[float | None, float | None]:
        """Perplexity and bits per byte on the general corpus (None, None without one)."""
        if self.corpus is None:
            return None, None
        tokenizer = self.backbone.tokenizer
        score = corpus_perplexity(
            model, self.corpus, pad_id=self.backbone.pad_id, batch_size=self.config.eval.ppl_batch_size,
            precision=self.config.train.precision, mask_token_id=tokenizer.mask_token_id, special_ids=tokenizer.all_special_ids,
        )
        return score.perplexity, score.bits_per_byte
