"""LAMOL's pseudo-examples: sampled from a task's generation token, then split into a prompt and an answer.

LAMOL marks where the answer starts with a special ``__ans__`` token. A task posed as
text here already has such a mark: the end its prompts share (the chat template's
assistant turn, or a plain template's ``Answer:``), so a generated example is split at
the last place it writes that end, and its answer runs to the end-of-sequence token
that closes every answer (:meth:`benchmark.model.prompt_encoding.PromptEncoder.answer_ids`).
Sampling stops there too, not at the end-of-turn tokens a chat prompt holds inside it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import torch
from transformers import GenerationConfig, StoppingCriteria, StoppingCriteriaList

from benchmark.model.task_model import TaskModel, eval_mode

TOP_K = 20  # LAMOL's top_k_qa and top_k_lm: sampling from the 20 likeliest tokens, temperature 1
GENERATION_BATCH = 16  # how many are sampled at once; fixed, so the draws do not depend on any other setting


@dataclass(frozen=True)
class PseudoExample:
    """One generated example of an earlier task: its prompt and answer ids (the answer ends with end-of-sequence)."""

    task: str
    prompt: list[int]
    answer: list[int]


def common_end(prompts: Sequence[Sequence[int]]) -> list[int]:
    """The longest run of token ids every prompt ends with (empty when two prompts end differently)."""
    shortest = min(len(p) for p in prompts)
    n = 0
    while n < shortest and len({tuple(p[len(p) - n - 1:]) for p in prompts}) == 1:
        n += 1
    return list(prompts[0][len(prompts[0]) - n:]) if n else []


def split_example(tokens: Sequence[int], answer_mark: Sequence[int], eos: int) -> tuple[list[int], list[int]] | None:
    """A generated example's (prompt, answer + [eos]), or None if it has no mark, no end after it, or an empty answer.

    The answer ends at the first end-of-sequence after the first answer mark (a chat
    prompt holds end-of-sequence tokens of its own, between its turns, and the mark may
    start with one); the prompt runs to the last mark before that end.
    """
    tokens, mark = list(tokens), list(answer_mark)
    starts = marks(tokens, mark)
    if not starts or eos not in tokens[starts[0] + len(mark):]:
        return None  # never reached the answer, or cut off by the length limit before its end
    end = tokens.index(eos, starts[0] + len(mark))
    cut = max(s for s in starts if s + len(mark) <= end) + len(mark)
    if cut == end:
        return None
    return tokens[:cut], tokens[cut:end] + [eos]


def marks(tokens: list[int], mark: list[int]) -> list[int]:
    """Where ``mark`` starts in ``tokens``, in order."""
    return [i for i in range(len(tokens) - len(mark) + 1) if tokens[i : i + len(mark)] == mark]


class AnswerEnded(StoppingCriteria):
    """Stops each sequence once it has written the answer mark and then end-of-sequence (not at the prompt's own end-of-turn tokens)."""

    def __init__(self, answer_mark: Sequence[int], eos: int, start: int) -> None:
        self.mark, self.eos, self.start = list(answer_mark), eos, start

    def __call__(self, input_ids: torch.Tensor, scores: torch.Tensor, **kwargs: object) -> torch.Tensor:
        done = [split_example(row[self.start:], self.mark, self.eos) is not None for row in input_ids.tolist()]
        return torch.tensor(done, dtype=torch.bool, device=input_ids.device)


def sample_examples(
    model: TaskModel, generation_token: int, count: int, *, max_new_tokens: int, pad: int, eos: int, seed: int,
    answer_mark: Sequence[int] = (),
) -> list[list[int]]:
    """``count`` sequences sampled after ``generation_token`` (top-k 20, temperature 1), seeded; each without the token.

    With an ``answer_mark`` a sequence ends once it has written the mark and then
    end-of-sequence (:class:`AnswerEnded`); without one, at its first end-of-sequence.
    """
    settings = GenerationConfig(
        max_new_tokens=max_new_tokens, do_sample=True, top_k=TOP_K, top_p=1.0, temperature=1.0, pad_token_id=pad,
        eos_token_id=None if answer_mark else eos,
    )
    stopping = StoppingCriteriaList([AnswerEnded(answer_mark, eos, start=1)] if answer_mark else [])
    device = next(model.parameters()).device
    written: list[list[int]] = []
    with eval_mode(model), torch.inference_mode(), torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)  # generate draws from torch's global generator; forked, so training's draws are unchanged
        for start in range(0, count, GENERATION_BATCH):
            n = min(GENERATION_BATCH, count - start)
            ids = torch.full((n, 1), generation_token, dtype=torch.long, device=device)
            out = model.backbone.generate(input_ids=ids, attention_mask=torch.ones_like(ids), generation_config=settings, stopping_criteria=stopping)
            written += [row[1:].tolist() for row in out.cpu()]
    return written
