"""Free-text outputs of the generate formulation: batched generation with the KV cache, and stop strings.

transformers' ``generate`` does the decoding: prompts left-padded (a decoder continues
each one where it ends; a seq2seq encoder takes them right-padded), the KV cache on,
each sequence stopping at end-of-sequence or at one of the task's stop strings
(:mod:`benchmark.engine.stop_strings`) on its own while the others go on. An output is
then cut before its first stop string (the tokens that wrote it are kept). Greedy by default; ``sample`` draws
with torch's generator seeded from (the task's data hash, which the run's seed draws, the row,
the batch's first example), so a rerun with the same batches draws the same outputs; ``beam`` keeps four beams.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
from transformers import GenerationConfig, PreTrainedTokenizerBase

from benchmark.core.hashing import derived_seed
from benchmark.engine.text_generation import continuations
from benchmark.model.generation_task import GenerationTask
from benchmark.model.task_model import TaskModel

BEAMS = 4  # --decode beam: the beam width of the free-text papers' usual setting


def cut_at_stops(text: str, stops: Sequence[str]) -> str:
    """``text`` up to the first occurrence of any stop string."""
    end = min((i for i in (text.find(s) for s in stops) if i >= 0), default=len(text))
    return text[:end]


def generation_settings(task: GenerationTask, tokenizer: PreTrainedTokenizerBase, decode: str) -> GenerationConfig:
    """``generate``'s settings for one task under ``decode`` (greedy, sample or beam)."""
    pad, eos = int(tokenizer.pad_token_id), int(tokenizer.eos_token_id)
    return GenerationConfig(
        max_new_tokens=task.max_new_tokens, do_sample=decode == "sample", num_beams=BEAMS if decode == "beam" else 1,
        pad_token_id=pad, eos_token_id=eos,
        **({"top_k": 0, "top_p": 1.0, "temperature": 1.0} if decode == "sample" else {}),
    )


def generate_outputs(
    model: TaskModel, prompts: Sequence[Sequence[int]], tokenizer: PreTrainedTokenizerBase, task: GenerationTask, *,
    head: str, decode: str, seed: tuple[object, ...],
) -> list[str]:
    """The output of every prompt, decoded without special tokens and cut at the task's stop strings.

    Args:
        model: The model (its language-model head answers).
        prompts: One batch of prompt token ids.
        tokenizer: The backbone's tokenizer.
        task: The task's generation settings.
        head: The task's module route (adapters, LoRA) to activate.
        decode: ``greedy``, ``sample`` or ``beam``.
        seed: What the sampling generator is seeded from (unused unless ``sample``).
    """
    if decode == "sample":
        torch.manual_seed(derived_seed(*seed))  # generate draws from torch's global generator
    settings = generation_settings(task, tokenizer, decode)
    written = continuations(model, prompts, tokenizer, settings, head=head, stops=task.stop)
    return [cut_at_stops(text, task.stop) for text in written]
