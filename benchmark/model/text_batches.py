"""Training batches of the text formulation: a prompt and the token ids of its gold answer.

Only the answer tokens carry loss. For a causal LM the answer follows the prompt in one
sequence, and ``target_ids`` holds each answer token at its own position and -100
everywhere else (prompt and padding), so the causal loss (position i predicts token
i + 1) is the negative log-likelihood of the answer given the prompt. For a seq2seq
model the prompt is the encoder's input and ``target_ids`` the decoder's labels (the
answers, padded with -100).
"""

from __future__ import annotations

from collections.abc import Sequence

import torch

from benchmark.model.batching import pad_batch

IGNORE = -100  # the ignore_index of torch's cross-entropy


def answer_batch(
    prompts: Sequence[Sequence[int]], labels: Sequence[int], answers: Sequence[Sequence[int]], pad_id: int, layout: str = "causal",
) -> dict[str, torch.Tensor]:
    """Right-padded ``prompt + answers[label]`` sequences (seq2seq: prompts and answers apart) with their answer-token targets.

    Args:
        prompts: Prompt token ids of each example.
        labels: Each example's class: an index into ``answers``.
        answers: The answer token ids of every class (the answer's tokens and the end-of-answer token).
        pad_id: Padding token id.
        layout: ``causal`` or ``seq2seq``.

    Returns:
        ``input_ids``, ``attention_mask``, ``labels`` (the classes) and ``target_ids``.
    """
    classes = torch.as_tensor(list(labels), dtype=torch.long)
    if layout == "seq2seq":
        input_ids, attention_mask = pad_batch(prompts, pad_id)
        decoded, present = pad_batch([answers[y] for y in labels], pad_id)
        return {"input_ids": input_ids, "attention_mask": attention_mask, "labels": classes, "target_ids": decoded.masked_fill(present == 0, IGNORE)}
    sequences = [list(p) + list(answers[y]) for p, y in zip(prompts, labels)]
    input_ids, attention_mask = pad_batch(sequences, pad_id)
    target_ids = torch.full_like(input_ids, IGNORE)
    for row, (prompt, label) in enumerate(zip(prompts, labels)):
        start = len(prompt)
        target_ids[row, start : start + len(answers[label])] = torch.as_tensor(answers[label], dtype=torch.long)
    return {"input_ids": input_ids, "attention_mask": attention_mask, "labels": classes, "target_ids": target_ids}


def prompt_lengths(target_ids: torch.Tensor) -> torch.Tensor:
    """Per row, the position of the first answer token (the prompt's length)."""
    answer = target_ids != IGNORE
    return answer.float().argmax(dim=1)
