"""Stopping each generated sequence at a stop string, for any tokenizer.

transformers' ``generate`` has ``stop_strings``, but it first maps every token of the
vocabulary to the text it yields by decoding it behind a fixed prefix, which raises on
tokenizers whose tokens do not decode that way (word-level vocabularies such as the
``tiny`` model's). Decoding each sequence's continuation and looking for the strings
works for every tokenizer; the continuations are short (a task's ``max_new_tokens``),
so decoding them at every step costs little next to the model's forward pass.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
from transformers import PreTrainedTokenizerBase, StoppingCriteria


class StopAtStrings(StoppingCriteria):
    """Marks a sequence done once its decoded continuation holds one of ``stops``.

    Args:
        tokenizer: Decodes the continuations (special tokens skipped).
        stops: The strings that end an output.
        prompt_width: Columns of ``input_ids`` that are the (padded) prompt: 0 for a seq2seq decoder.
    """

    def __init__(self, tokenizer: PreTrainedTokenizerBase, stops: Sequence[str], prompt_width: int) -> None:
        self.tokenizer, self.stops, self.prompt_width = tokenizer, tuple(stops), prompt_width

    def __call__(self, input_ids: torch.LongTensor, scores: torch.FloatTensor, **kwargs: object) -> torch.BoolTensor:
        texts = self.tokenizer.batch_decode(input_ids[:, self.prompt_width:], skip_special_tokens=True)
        return torch.tensor([any(stop in text for stop in self.stops) for text in texts], dtype=torch.bool, device=input_ids.device)
