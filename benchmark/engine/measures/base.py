"""The measure contract: what is measured on row 0 and after tasks, and its registry.

A measure watches the model; it never changes it or the loss. It is computed on row 0
(the pretrained model, once per (order, seed) and shared by every strategy through the
row-0 cache) and after every task, or only after the last one. It declares the series
it stores in the record under ``measures``: a ``per_task`` series holds one value per
task column per row (the accuracy matrix), a ``per_row`` series one value per row
(perplexity). Metrics (:mod:`benchmark.results.metrics`) name a series as their input,
which is how a measure's values reach the leaderboard.

The engine hands every measure a :class:`MeasureEnv`: the backbone, the general corpus,
the suite's settings (batch sizes, precision) and the processes the run is spread over,
with helpers for the evaluation batches of a task and its pooled features.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any, ClassVar, Literal

import torch

from benchmark.core.config import SuiteConfig
from benchmark.core.errors import UserError
from benchmark.core.registry import Registry
from benchmark.engine.evaluation import autocast, model_device, summed_over_processes, test_batches
from benchmark.engine.parallel import Parallel
from benchmark.model.backbones import Backbone
from benchmark.engine.representations import LayerFeatures, split_features
from benchmark.model.encoding import EncodedCorpus, EncodedTask
from benchmark.model.task_model import TaskModel, eval_mode
from benchmark.results.outcomes import reproduced_series

SeriesKind = Literal["per_task", "per_row"]


@dataclass
class MeasureEnv:
    """What the engine gives a measure: model-independent facts of the suite and the run's processes."""

    backbone: Backbone
    corpus: EncodedCorpus | None
    config: SuiteConfig
    parallel: Parallel | None = None
    general_texts: list[str] = field(default_factory=list)  # general-corpus documents after the perplexity windows'
    shares_features: bool = field(default=False, init=False)
    _features: dict[tuple[Any, ...], LayerFeatures] = field(default_factory=dict, init=False, repr=False)

    def begin_point(self, shares_features: bool) -> None:
        """Starts a measure point: no features cached yet; ``shares_features`` if a due measure reads them."""
        self._features.clear()
        self.shares_features = shares_features

    def end_point(self) -> None:
        """Frees the point's cached features."""
        self._features.clear()
        self.shares_features = False

    def task_features(self, model: TaskModel, task: EncodedTask, split: str = "test", *, limit: int | None = None) -> LayerFeatures:
        """Per-layer pooled features of the first ``limit`` examples (all: None) of ``task``'s split, through the task's path.

        Computed once per measure point and shared by every measure that asks the same
        (accuracy and probes read one pass over a test split). Every process computes
        the whole split (features are not sharded). In the text formulation the inputs
        are the prompts alone.
        """
        examples = getattr(task, split)
        n = len(examples) if limit is None else min(limit, len(examples))
        key = (task.index, split, n)
        if key not in self._features:
            self._features[key] = split_features(
                model, examples, n, route=task.head, pad_id=self.pad_id, batch_size=self.config.eval.batch_size, precision=self.precision,
            )
        return self._features[key]

    @property
    def pad_id(self) -> int:
        """The padding token id."""
        return self.backbone.pad_id

    @property
    def precision(self) -> str:
        """``fp32``, ``bf16`` or ``fp16``: the autocast every forward pass uses."""
        return self.config.train.precision

    def test_batches(self, task: EncodedTask) -> Iterator[dict[str, torch.Tensor]]:
        """This process's share of the length-sorted evaluation batches of ``task``'s test split (on the CPU)."""
        return test_batches(task, pad_id=self.pad_id, batch_size=self.config.eval.batch_size, parallel=self.parallel)

    def pooled_features(self, model: TaskModel, task: EncodedTask) -> Iterator[tuple[torch.Tensor, torch.Tensor]]:
        """(pooled features, labels) of each of this process's test batches of ``task``, in eval mode without gradients."""
        device = model_device(model)
        with eval_mode(model), torch.inference_mode(), autocast(self.precision, device):
            for batch in self.test_batches(task):
                model.router.activate(task.head)
                yield model.features(batch["input_ids"].to(device), batch["attention_mask"].to(device)).float().cpu(), batch["labels"]

    def summed(self, *values: float) -> list[float]:
        """``values`` summed over the run's processes (unchanged with one process)."""
        return summed_over_processes(self.parallel, *values)


@dataclass(frozen=True)
class MeasurePoint:
    """Where a measure is taken: row ``row`` (0: the pretrained model) of a run over ``tasks``.

    Attributes:
        row: 0 before training, t after the t-th task (the joint reference: the last row).
        tasks: Every task of the run, in training order.
        columns: The task columns a per-task series is measured on here (``eval.eval_on``).
    """

    row: int
    tasks: list[EncodedTask]
    columns: list[int]


class Measure:
    """Base class of every measure.

    Attributes:
        series: Each series it stores, by name, with its kind (``per_task`` or ``per_row``).
            Names are unique over the measures of a suite: a metric names its input by it.
        after: ``every_task`` (and row 0), or ``last_task`` (row 0 and the last row only:
            for measures too costly to take after every task).
        reads_features: Whether it reads :meth:`MeasureEnv.task_features` (then accuracy
            reads the same pass instead of running the model again).
        model_kinds: The model kinds it can measure; a suite with another is refused before any work.
        needs_lm_head: Whether it reads the language-model head: on a model without one it
            is not taken (its series stay None) and the record says why.
    """

    series: ClassVar[dict[str, SeriesKind]] = {}
    after: ClassVar[Literal["every_task", "last_task"]] = "every_task"
    reads_features: ClassVar[bool] = False
    model_kinds: ClassVar[tuple[str, ...]] = ("causal", "encoder", "seq2seq")
    needs_lm_head: ClassVar[bool] = False

    @classmethod
    def series_for(cls, config: SuiteConfig | None) -> dict[str, SeriesKind]:
        """The series this measure stores under ``config`` (by default always :attr:`series`)."""
        return dict(cls.series)

    @classmethod
    def check(cls, config: SuiteConfig, source: str) -> None:
        """Refuses, in one sentence and before any work, settings under which this measure cannot be taken (default: none)."""

    def check_setup(self, env: MeasureEnv, test_sizes: dict[str, int]) -> None:
        """Refuses, in one sentence and before any work, a suite whose data cannot give this measure a meaningful value
        (default: none). ``test_sizes``: each task's number of test examples."""

    @classmethod
    def after_for(cls, config: SuiteConfig | None) -> str:
        """When it is taken under ``config`` (by default always :attr:`after`)."""
        return cls.after

    def measure(self, model: TaskModel, point: MeasurePoint, env: MeasureEnv) -> dict[str, Any]:
        """The values at ``point``: for each series, ``{column: value}`` (per task) or one value (per row)."""
        raise NotImplementedError

    def divergence(self, values: dict[str, Any]) -> tuple[str, Any] | None:
        """(what, value) if ``values`` after a task show that the model diverged (a run then fails), else None."""
        return None


MEASURES: Registry[type[Measure]] = Registry(
    "measure", where="--measures", builtin_modules=("benchmark.engine.measures",), entry_point_group="forgetbench.measures"
)
register_measure = MEASURES.register


def build_measures(names: list[str], config: SuiteConfig | None = None) -> dict[str, Measure]:
    """The measures of a suite by name, in the order given, checked for what every record needs and for clashing series.

    Each measure's ``series`` become the ones it stores under ``config`` (:meth:`Measure.series_for`).
    """
    if "accuracy" not in names:
        raise UserError(f"--measures {','.join(names)} leaves out 'accuracy', which every continual-learning metric reads; add it")
    measures: dict[str, Measure] = {}
    owners: dict[str, str] = {}
    for name in names:
        cls = MEASURES.get(name)
        declared = cls.series_for(config)
        check_outcome_series(name, declared)
        for series in declared:
            if series in owners:
                raise UserError(f"measures {owners[series]!r} and {name!r} both store a series {series!r}; use only one of them")
            owners[series] = name
        if config is not None:
            cls.check(config, "--measures")
        measures[name] = cls()
        measures[name].series = declared  # type: ignore[misc] - the instance's series under this config
        measures[name].after = cls.after_for(config)  # type: ignore[misc] - likewise when it is taken
    return measures


def check_outcome_series(measure: str, declared: dict[str, SeriesKind]) -> None:
    """Refuses an outcome series (``<score>_outcomes``) stored without the score series it reproduces."""
    for series in declared:
        scores = reproduced_series(series)
        if scores is not None and scores not in declared:
            raise UserError(
                f"measure {measure!r} stores the outcome series {series!r} but not the score series {scores!r} it reproduces; "
                f"store both, or rename {series!r} (a name ending in '_outcomes' declares per-example outcomes)"
            )


def refuse_small_test_splits(measure: str, test_sizes: dict[str, int], minimum: int, why: str) -> None:
    """Refuses test splits below ``minimum`` examples for ``measure`` (which cannot give a meaningful value on fewer, ``why``)."""
    small = sorted((n, task) for task, n in test_sizes.items() if n < minimum)
    if small:
        n, task = small[0]
        raise UserError(
            f"measure {measure!r} needs at least {minimum} test examples per task ({why}), but task {task!r} has {n}; "
            f"raise --test-size to {minimum} or more, or leave {measure!r} out of --measures"
        )


def check_model_kind(measures: dict[str, Measure], kind: str, *, has_lm_head: bool = True) -> None:
    """Refuses, in one sentence, a measure that cannot measure a ``kind`` model.

    A measure that needs an LM head is not taken at all on a model without one (the record
    says why: :func:`not_applicable`), so its kinds do not matter there.
    """
    for name, measure in measures.items():
        if measure.needs_lm_head and not has_lm_head:
            continue
        if kind not in measure.model_kinds:
            raise UserError(f"measure {name!r} cannot measure a {kind} model (it measures {', '.join(measure.model_kinds)} models); leave it out of --measures")


def not_applicable(measures: dict[str, Measure], backbone: Backbone) -> dict[str, str]:
    """Why each measure that cannot be taken on ``backbone`` is not, by measure name (stored in the record)."""
    if backbone.has_lm_head:
        return {}
    return {
        name: f"not applicable: no LM head ({backbone.no_lm_head_reason})"
        for name, measure in measures.items() if measure.needs_lm_head
    }


def measured_rows(measure: Measure, row: int, n_tasks: int) -> bool:
    """Whether ``measure`` is taken at ``row`` of a run over ``n_tasks`` tasks."""
    return measure.after == "every_task" or row in (0, n_tasks)
