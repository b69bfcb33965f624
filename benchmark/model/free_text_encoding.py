"""Tasks of the generate formulation: prompts as token ids, each example's own target answer, its references for scoring.

Training reuses the text formulation's batches: ``EncodedSplit.answers`` holds one
answer per example and example k's label is k, so a batch is each prompt followed by
its own answer, and the loss is over the answer tokens. A classification task posed
this way answers with its label's answer string (its one reference). Scoring reads the
references, sources and metric settings in :class:`GenerationTask`.
"""

from __future__ import annotations

from benchmark.core.errors import UserError
from benchmark.model.backbones import Backbone
from benchmark.model.encoding import EncodedSplit, EncodedTask, cached_token_ids
from benchmark.model.generation_task import GenerationTask
from benchmark.model.prompt_encoding import PromptEncoder, TextTask, prompt_hash
from scenarios.prepare import TaskDataset
from scenarios.prompts import TaskPrompt
from scenarios.splits import TextSplit

NEW_TOKEN_MARGIN = 8  # generated beyond the longest training answer by default, so a longer output is seen, not cut to size
MAX_DEFAULT_NEW_TOKENS = 512  # the default's cap: a task with longer answers states max_new_tokens


def split_references(split: TextSplit, answers: list[str]) -> list[list[str]]:
    """Each example's references: its own (free text) or its label's answer string (a classification task)."""
    return [list(r) for r in split.references] if split.references is not None else [[answers[y]] for y in split.labels]


def _cut_answer(ids: list[int], limit: int) -> list[int]:
    """An answer's tokens cut to ``limit`` (its end-of-sequence token kept, so the model learns to stop)."""
    return ids if len(ids) <= limit + 1 else [*ids[:limit], ids[-1]]


def new_token_budget(dataset: TaskDataset, train_answers: list[list[int]], backbone: Backbone, longest_prompt: int) -> int:
    """The task's ``max_new_tokens`` (default: the longest training answer plus a margin, capped), checked against the model."""
    spec = dataset.spec
    budget = spec.max_new_tokens or min(max(map(len, train_answers)) + NEW_TOKEN_MARGIN, MAX_DEFAULT_NEW_TOKENS)
    limit = backbone.max_positions
    need = budget if backbone.kind == "seq2seq" else longest_prompt + budget
    if limit is not None and need > limit:
        raise UserError(
            f"task {spec.name!r}: its longest prompt with {budget} new tokens is {need} tokens, more than the {limit} positions of model "
            f"{backbone.name!r}; lower the task's max_new_tokens or max_length"
        )
    return budget


def encode_generation_task(backbone: Backbone, dataset: TaskDataset, prompt: TaskPrompt, index: int) -> EncodedTask:
    """One task of a run in the generate formulation (``index``: its position in the order)."""
    spec = dataset.spec
    encoder = PromptEncoder(backbone.tokenizer, prompt, spec.max_length, backbone.name, seq2seq=backbone.kind == "seq2seq")
    train_refs, test_refs = split_references(dataset.train, prompt.answers), split_references(dataset.test, prompt.answers)
    hashed = prompt_hash(prompt, [], spec.max_length)

    def tokenize(split: TextSplit) -> list[list[int]]:
        return encoder.prompts(split.texts, split.pairs)

    train_ids, test_ids = cached_token_ids(backbone, dataset, tokenize=tokenize, variant=f"generate:{hashed}")
    train_answers = [_cut_answer(encoder.answer_ids(refs[0]), spec.max_length) for refs in train_refs]
    test_answers = [_cut_answer(encoder.answer_ids(refs[0]), spec.max_length) for refs in test_refs]
    budget = new_token_budget(dataset, train_answers, backbone, max(map(len, train_ids + test_ids)))
    layout = "seq2seq" if backbone.kind == "seq2seq" else "causal"
    train_pairs = dataset.train.pairs or [None] * len(dataset.train)
    return EncodedTask(
        name=spec.name, index=index, head=spec.name, label_names=[],
        train=EncodedSplit(train_ids, list(range(len(train_ids))), train_answers, layout),
        test=EncodedSplit(test_ids, list(range(len(test_ids))), test_answers, layout),
        data_hash=dataset.data_hash, source_hash=dataset.source_hash,
        text=TextTask(
            prompt=prompt, answer_texts=[refs[0] for refs in train_refs], own_classes=list(range(len(train_refs))), max_length=spec.max_length,
            train_texts=[(t, p, k) for k, (t, p) in enumerate(zip(dataset.train.texts, train_pairs))],
            test_texts=list(zip(dataset.test.texts, dataset.test.pairs or [None] * len(dataset.test))), prompt_hash=hashed,
        ),
        generation=GenerationTask(
            metric=spec.metric, references=test_refs, sources=dataset.test.sources, answer_pattern=spec.answer_pattern,
            stop=tuple(spec.stop), max_new_tokens=budget, correct_at=spec.correct_at,
        ),
    )
