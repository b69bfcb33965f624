"""Prompts and answers as token ids: the text formulation's tokenisation.

A prompt is rendered as a string and tokenised whole: ``plain`` prompts are the
instruction, any in-context demonstrations (``prompt answer`` blocks) and the example's
prompt, with the tokenizer's own special tokens; ``chat`` prompts are user turns (and,
for demonstrations, assistant turns) through the tokenizer's chat template, ending with
the generation prompt. An answer's target is its own tokens followed by the
end-of-sequence token (which closes an assistant turn in chat templates), tokenised
apart from the prompt, so training and scoring see exactly the same answer tokens.
Texts longer than the task's ``max_length`` tokens are cut at a token boundary of the
original string before rendering, so the template and the answer are never cut off.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass

from transformers import PreTrainedTokenizerBase

from benchmark.core.errors import UserError
from benchmark.core.hashing import digest
from scenarios.prompts import TaskPrompt

Demonstration = tuple[str, str | None, str]  # (text, text pair or None, answer string)


@dataclass
class TextTask:
    """How one task is posed as text, as the scorer and the ``icl`` reference need it.

    Attributes:
        prompt: Template, instruction, answers and style.
        answer_texts: Every class's answer string (the task's label order; class-incremental: the union).
        own_classes: This task's own classes (indices into ``answer_texts``).
        max_length: Tokens each text is cut to before rendering.
        train_texts: The training split's raw texts, pairs and classes (for demonstrations).
        test_texts: The test split's raw texts and pairs (to render them with demonstrations).
        prompt_hash: Hash of everything above that changes a token id.
    """

    prompt: TaskPrompt
    answer_texts: list[str]
    own_classes: list[int]
    max_length: int
    train_texts: list[tuple[str, str | None, int]]
    test_texts: list[tuple[str, str | None]]
    prompt_hash: str


def prompt_hash(prompt: TaskPrompt, answer_texts: list[str], max_length: int) -> str:
    """A short hash of a task's template, instruction, style, answers and cut length (and side, when not the default)."""
    parts: list[object] = [prompt.template, prompt.instruction, prompt.style, answer_texts, max_length]
    if prompt.truncation_side != "right":  # added later: the hashes of every task cut on the right stay as they were
        parts.append(prompt.truncation_side)
    return digest(json.dumps(parts), length=16)


class PromptEncoder:
    """Renders and tokenises the prompts and answers of one task for one tokenizer.

    Args:
        tokenizer: The backbone's tokenizer.
        prompt: How the task is posed.
        max_length: Tokens each text (and text pair) is cut to.
        model: The model's name, for error messages.
        seq2seq: The answer is the decoder's (no space before it: it does not continue the prompt).
    """

    def __init__(self, tokenizer: PreTrainedTokenizerBase, prompt: TaskPrompt, max_length: int, model: str = "", *, seq2seq: bool = False) -> None:
        if prompt.style == "chat" and not getattr(tokenizer, "chat_template", None):
            raise UserError(f"model {model!r} has no chat template, so prompt_style: chat cannot apply; set prompt_style: plain in the scenario")
        if tokenizer.eos_token_id is None:
            raise UserError(f"model {model!r} has no end-of-sequence token to close an answer; the text formulation needs one")
        self.tokenizer, self.prompt, self.max_length, self.seq2seq = tokenizer, prompt, max_length, seq2seq

    def cut(self, texts: Sequence[str | None]) -> list[str | None]:
        """Each text cut to its first ``max_length`` tokens (its last, when the task cuts on the left), at token edges in the original string."""
        present = [t for t in texts if t is not None]
        encoded = self.tokenizer(present, add_special_tokens=False, return_offsets_mapping=True)["offset_mapping"] if present else []
        left, n = self.prompt.truncation_side == "left", self.max_length
        kept = iter(t if len(o) <= n else (t[o[-n][0]:] if left else t[: o[n - 1][1]]) for t, o in zip(present, encoded))
        return [None if t is None else next(kept) for t in texts]

    def render(self, text: str, pair: str | None, demos: Sequence[Demonstration] = ()) -> str:
        """The prompt string of one example, after its demonstrations."""
        lead = f"{self.prompt.instruction}\n\n" if self.prompt.instruction else ""
        if self.prompt.style == "plain":
            shots = "".join(f"{self.prompt.render(t, p)} {a}\n\n" for t, p, a in demos)
            return lead + shots + self.prompt.render(text, pair)
        turns: list[dict[str, str]] = []
        for t, p, a in demos:
            turns += [{"role": "user", "content": self.prompt.render(t, p)}, {"role": "assistant", "content": a}]
        turns.append({"role": "user", "content": self.prompt.render(text, pair)})
        turns[0] = {"role": "user", "content": lead + turns[0]["content"]}
        return self.tokenizer.apply_chat_template(turns, tokenize=False, add_generation_prompt=True)

    def prompts(self, texts: Sequence[str], pairs: Sequence[str] | None, demos: Sequence[Demonstration] = ()) -> list[list[int]]:
        """Token ids of the prompt of every example (demonstrations cut like the examples)."""
        cut = self.cut(list(texts))
        cut_pairs = self.cut(list(pairs)) if pairs is not None else [None] * len(cut)
        demos = [(self.cut([t])[0], self.cut([p])[0], a) for t, p, a in demos]
        strings = [self.render(t, p, demos) for t, p in zip(cut, cut_pairs)]
        special = self.prompt.style == "plain"  # a chat template writes its own special tokens
        return [list(ids) for ids in self.tokenizer(strings, add_special_tokens=special)["input_ids"]]

    def answer_ids(self, answer: str) -> list[int]:
        """The target token ids of one answer: its tokens, then end-of-sequence."""
        text = f" {answer}" if self.prompt.style == "plain" and not self.seq2seq else answer
        return [*self.tokenizer(text, add_special_tokens=False)["input_ids"], int(self.tokenizer.eos_token_id)]
