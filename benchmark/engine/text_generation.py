"""Greedy decoding of answers (``--decode greedy``): the O-LoRA / TRACE convention of exact match.

Generation goes through transformers' ``generate`` (greedy, no sampling) on left-padded
prompts, which is the padding side ``generate`` continues correctly (a seq2seq model's
encoder takes them right-padded as usual). An output counts
as an answer when it equals one, after :func:`benchmark.core.answer_text.normalise_answer`
(the scenario check refuses answers that it would merge).
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
from transformers import GenerationConfig, PreTrainedTokenizerBase, StoppingCriteriaList

from benchmark.engine.stop_strings import StopAtStrings
from benchmark.model.batching import pad_batch
from benchmark.model.task_model import TaskModel

MARGIN_TOKENS = 2  # generated beyond the longest answer target, so a longer wrong output is seen as wrong, not cut to a right one


def left_padded(prompts: Sequence[Sequence[int]], pad_id: int) -> tuple[torch.Tensor, torch.Tensor]:
    """Prompts padded on the left: (input_ids, attention_mask)."""
    width = max(len(p) for p in prompts)
    ids = torch.full((len(prompts), width), pad_id, dtype=torch.long)
    mask = torch.zeros_like(ids)
    for row, prompt in enumerate(prompts):
        ids[row, width - len(prompt):] = torch.as_tensor(list(prompt), dtype=torch.long)
        mask[row, width - len(prompt):] = 1
    return ids, mask


def continuations(
    model: TaskModel, prompts: Sequence[Sequence[int]], tokenizer: PreTrainedTokenizerBase, settings: GenerationConfig, *,
    head: str, stops: Sequence[str] = (),
) -> list[str]:
    """What ``generate`` writes after every prompt under ``settings``, decoded without special tokens.

    Args:
        model: The model (its language-model head answers).
        prompts: One batch of prompt token ids.
        tokenizer: The backbone's tokenizer.
        settings: ``generate``'s settings (length, decoding rule, pad and end tokens, stop strings).
        head: The task's module route (adapters, LoRA) to activate.
        stops: Strings that end a sequence (:class:`benchmark.engine.stop_strings.StopAtStrings`).
    """
    device = next(model.parameters()).device
    model.router.activate(head)
    pad = int(tokenizer.pad_token_id)
    ids, mask = (t.to(device) for t in (pad_batch(prompts, pad) if model.kind == "seq2seq" else left_padded(prompts, pad)))
    prompt_width = 0 if model.kind == "seq2seq" else ids.size(1)  # a decoder's output is only the continuation
    stopping = StoppingCriteriaList([StopAtStrings(tokenizer, stops, prompt_width)] if stops else [])
    generated = model.backbone.generate(input_ids=ids, attention_mask=mask, generation_config=settings, stopping_criteria=stopping)
    new = generated[:, prompt_width:]
    return tokenizer.batch_decode(new, skip_special_tokens=True)


def greedy_outputs(
    model: TaskModel, prompts: Sequence[Sequence[int]], tokenizer: PreTrainedTokenizerBase, *, max_new_tokens: int, head: str,
) -> list[str]:
    """The greedily generated continuation of every prompt, decoded without special tokens."""
    pad = int(tokenizer.pad_token_id)
    settings = GenerationConfig(max_new_tokens=max_new_tokens, do_sample=False, pad_token_id=pad, eos_token_id=int(tokenizer.eos_token_id))
    return continuations(model, prompts, tokenizer, settings, head=head)
