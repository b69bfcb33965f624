"""Tasks posed as text: the prompt template, instruction and answer strings of each task.

A template holds ``{text}`` and, for a sentence-pair task, ``{text_pair}``; ``{options}``
is replaced by the task's answers joined by ", " (``{{`` and ``}}`` write literal braces). A task's own ``prompt``/``instruction`` win over the
scenario's; without either, single-text tasks use :data:`DEFAULT_PROMPT` and pair tasks
:data:`DEFAULT_PAIR_PROMPT`. Answers default to the label names. Everything a user can
get wrong here is reported when the scenario is read, before any data is loaded.
"""

from __future__ import annotations

import string
from dataclasses import dataclass

from benchmark.core.answer_text import normalise_answer
from benchmark.core.errors import UserError
from scenarios.spec import ScenarioSpec, TaskSpec

DEFAULT_PROMPT = "{text}\nAnswer:"
DEFAULT_PAIR_PROMPT = "{text}\n{text_pair}\nAnswer:"
PLACEHOLDERS = ("text", "text_pair", "options")


@dataclass(frozen=True)
class TaskPrompt:
    """How one task is posed as text.

    Attributes:
        template: The prompt template (``{text}``, ``{text_pair}``).
        instruction: Text put before the prompt (once, also before in-context examples), or None.
        answers: The answer string of every label, in the task's label order.
        style: ``plain`` (the rendered string) or ``chat`` (one user turn of the tokenizer's chat template).
        truncation_side: Which end of a text longer than the task's ``max_length`` is cut:
            ``right`` (its end, the default) or ``left`` (its start, as TRACE cuts its prompts).
    """

    template: str
    instruction: str | None
    answers: list[str]
    style: str
    truncation_side: str = "right"

    def render(self, text: str, pair: str | None) -> str:
        """The prompt of one example (without the instruction)."""
        return self.template.format(text=text, text_pair=pair if pair is not None else "", options=", ".join(self.answers))


def is_pair_task(task: TaskSpec) -> bool:
    """Whether the task's examples are sentence pairs (any of its sources names a second text field)."""
    return task.text_pair_field is not None or any(
        s is not None and s.text_pair_field is not None for s in (task.source, task.local)
    )


def task_prompt(spec: ScenarioSpec, task: TaskSpec) -> TaskPrompt:
    """The prompt, instruction and answers ``task`` is posed with in scenario ``spec``."""
    template = task.prompt or spec.prompt or (DEFAULT_PAIR_PROMPT if is_pair_task(task) else DEFAULT_PROMPT)
    instruction = task.instruction if task.instruction is not None else spec.instruction
    return TaskPrompt(
        template=template, instruction=instruction or None,
        answers=[task.answers.get(label, label) for label in task.labels], style=spec.prompt_style,
        truncation_side=task.truncation_side,
    )


def _fields(template: str, where: str) -> set[str]:
    try:
        parsed = list(string.Formatter().parse(template))
    except ValueError as exc:
        raise UserError(f"{where}: prompt {template!r} is not a valid template ({exc}); write literal braces as {{{{ and }}}}") from exc
    for _, name, spec, conversion in parsed:
        if name is not None and (spec or conversion):  # {text:>10000000} pads every prompt; {text:d} fails on a string
            written = "{" + name + (f"!{conversion}" if conversion else "") + (f":{spec}" if spec else "") + "}"
            raise UserError(f"{where}: prompt {template!r} writes {written}; a placeholder takes no format spec or conversion, so write {{{name}}}")
    return {name for _, name, _, _ in parsed if name is not None}


def _check_answers(task: TaskSpec, prompt: TaskPrompt, where: str) -> None:
    stray = sorted(set(task.answers) - set(task.labels))
    if stray:
        raise UserError(f"{where}: 'answers' names {stray}, which are not in labels {task.labels}; use label names as its keys")
    blank = [label for label, answer in zip(task.labels, prompt.answers) if not normalise_answer(answer)]
    if blank:
        raise UserError(f"{where}: the answer of label {blank[0]!r} is empty or only punctuation; give every label an answer with words")
    twice = sorted({a for a in prompt.answers if prompt.answers.count(a) > 1})
    if twice:
        raise UserError(f"{where}: answer {twice[0]!r} is given to two labels; give every label its own answer string")
    seen: dict[str, str] = {}
    for label, answer in zip(task.labels, prompt.answers):
        other = seen.setdefault(normalise_answer(answer), label)
        if other != label:
            raise UserError(
                f"{where}: labels {other!r} and {label!r} have answers that differ only in case, spaces or punctuation "
                f"({prompt.answers[task.labels.index(other)]!r}, {answer!r}), which greedy decoding cannot tell apart; give them different words"
            )


def validate_prompts(spec: ScenarioSpec, source: str) -> None:
    """Checks every task's template placeholders and answers (raises UserError)."""
    if spec.prompt is not None and not spec.prompt.strip():
        raise UserError(f"{source}: the scenario's prompt is empty; leave it out for the default template, or write one with {{text}}")
    for task in spec.tasks:
        where = f"{source}: task {task.name!r}"
        if task.prompt is not None and not task.prompt.strip():
            raise UserError(f"{where}: prompt is empty; leave it out for the scenario's template, or write one with {{text}}")
        prompt = task_prompt(spec, task)
        fields = _fields(prompt.template, where)
        unknown = sorted(fields - set(PLACEHOLDERS))
        if unknown:
            raise UserError(f"{where}: prompt {prompt.template!r} uses {{{unknown[0]}}}; a template may use only {{text}}, {{text_pair}} and {{options}}")
        if "text" not in fields:
            raise UserError(f"{where}: prompt {prompt.template!r} has no {{text}}; put {{text}} where the example's text goes")
        if is_pair_task(task) and "text_pair" not in fields:
            raise UserError(f"{where}: is a sentence-pair task but prompt {prompt.template!r} has no {{text_pair}}; add it")
        if not is_pair_task(task) and "text_pair" in fields:
            raise UserError(f"{where}: prompt {prompt.template!r} uses {{text_pair}} but the task has no text_pair_field; remove it")
        _check_answers(task, prompt, where)
