"""The sequential loop: evaluate row 0, then for each task train, evaluate, record.

``run_suite`` validates everything a user can get wrong (names, files, data) before
anything is written, prepares data and the backbone once, shares the row-0
evaluation between strategies, and writes one record per run atomically.
"""

from __future__ import annotations

import copy
import datetime as dt
import os
import time
import zlib
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import torch
from tqdm.auto import tqdm

from benchmark.backbones import Backbone, load_backbone
from benchmark.config import SuiteConfig, to_dict
from benchmark.encoding import EncodedCorpus, EncodedTask, encode_corpus, encode_tasks, head_sizes
from benchmark.environment import describe_environment, physical_cores
from benchmark.errors import UserError
from benchmark.evaluation import corpus_perplexity, task_accuracy
from benchmark.metrics import as_matrix, compute_metrics
from benchmark.records import RunRecord, TaskTiming, write_record
from benchmark.row0_cache import RowZero, cached_row0, row0_key
from benchmark.run_context import RunContext
from benchmark.task_model import TaskModel, count_parameters
from benchmark.trainer import NumericalFault, train_tasks
from scenarios.catalog import load_scenario
from scenarios.prepare import TaskDataset, prepare_corpus, prepare_task
from scenarios.spec import ScenarioSpec
from strategies.base import Strategy, build_strategy

VOCAB_CORPUS_DOCUMENTS = 200


@dataclass
class PreparedData:
    """A scenario's data for every seed of a suite, and its general corpus."""

    spec: ScenarioSpec
    by_seed: dict[int, dict[str, TaskDataset]]
    corpus_documents: list[str] = field(default_factory=list)

    def vocabulary_texts(self) -> list[str]:
        """Texts a data-built tokenizer (the tiny model's) learns its words from; seed-independent."""
        first = next(iter(self.by_seed.values()))
        texts = [t for dataset in first.values() for t in dataset.pool_texts]
        return texts + self.corpus_documents[:VOCAB_CORPUS_DOCUMENTS]


def derived_seed(*parts: int) -> int:
    """A 31-bit seed derived from integers (run seed, task position, ...)."""
    return zlib.crc32(",".join(str(p) for p in parts).encode()) & 0x7FFFFFFF


def resolve_device(name: str) -> torch.device:
    """``auto`` picks CUDA when available; anything else is passed to torch.device."""
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    try:
        device = torch.device(name)
    except RuntimeError as exc:
        raise UserError(f"--device {name!r} is not a device torch knows; use cpu, cuda, cuda:N or auto") from exc
    if device.type == "cuda" and not torch.cuda.is_available():
        raise UserError(f"--device {name!r} asks for CUDA but no GPU is visible; use --device cpu")
    return device


def check_writable(directory: str | Path) -> None:
    """Fails early, before any training, if results could not be written to ``directory``."""
    path = Path(directory).resolve()
    probe = path
    while not probe.exists():
        probe = probe.parent
    if not probe.is_dir() or not os.access(probe, os.W_OK | os.X_OK):
        raise UserError(f"results directory {str(directory)!r} is not writable; pass a writable directory to --out")


def prepare_data(config: SuiteConfig, spec: ScenarioSpec) -> PreparedData:
    """Loads and splits every task for every seed (this is where bad data is reported)."""
    data_dir = Path(config.data_dir).expanduser() if config.data_dir else None
    if data_dir is not None and not data_dir.is_dir():
        raise UserError(f"--data-dir {config.data_dir!r} is not a directory; pass the folder that holds the scenario's files")
    source = f"scenario {spec.name!r}"
    by_seed = {
        seed: {
            task.name: prepare_task(
                task, seed=seed, data_dir=data_dir, source_name=source,
                train_size=config.train_size, test_size=config.test_size,
            )
            for task in spec.tasks
        }
        for seed in config.seeds
    }
    documents: list[str] = []
    if spec.perplexity is not None and config.eval.ppl_tokens > 0:
        documents = prepare_corpus(spec.perplexity, data_dir=data_dir, source_name=source)
    return PreparedData(spec=spec, by_seed=by_seed, corpus_documents=documents)


def evaluation_columns(t: int, n_tasks: int, eval_on: str) -> range:
    """Columns evaluated after task ``t`` (1-based): seen tasks, plus the next one, or all."""
    if eval_on == "all":
        return range(n_tasks)
    return range(min(t + 1, n_tasks) if eval_on == "seen_next" else t)


@dataclass
class Evaluator:
    """Scores a model on tasks and on the general corpus with the suite's settings."""

    backbone: Backbone
    corpus: EncodedCorpus | None
    config: SuiteConfig

    def accuracy(self, model: TaskModel, task: EncodedTask) -> float:
        return task_accuracy(model, task, pad_id=self.backbone.pad_id, batch_size=self.config.eval.batch_size, precision=self.config.train.precision)

    def language_model(self, model: TaskModel) -> tuple[float | None, float | None]:
        if self.corpus is None:
            return None, None
        tokenizer = self.backbone.tokenizer
        score = corpus_perplexity(
            model, self.corpus, pad_id=self.backbone.pad_id, batch_size=self.config.eval.ppl_batch_size,
            precision=self.config.train.precision, mask_token_id=tokenizer.mask_token_id, special_ids=tokenizer.all_special_ids,
        )
        return score.perplexity, score.bits_per_byte


def new_model(backbone: Backbone, tasks: list[EncodedTask], seed: int, device: torch.device) -> TaskModel:
    """A fresh copy of the pretrained backbone with the seeded heads of ``tasks``."""
    return TaskModel(copy.deepcopy(backbone.model), kind=backbone.kind, head_sizes=head_sizes(tasks), seed=seed).to(device)


def compute_row0(backbone: Backbone, tasks: list[EncodedTask], seed: int, evaluator: Evaluator, device: torch.device) -> RowZero:
    """Evaluates the untouched pretrained model (with seeded heads) on every task and the corpus."""
    model = new_model(backbone, tasks, seed, device)
    accuracy = [evaluator.accuracy(model, task) for task in tasks]
    perplexity, bits = evaluator.language_model(model)
    return RowZero(accuracy=accuracy, perplexity=perplexity, bits_per_byte=bits, seconds=0.0)


@dataclass
class RunOutcome:
    """A finished (or failed) run: its record and the model it trained."""

    record: RunRecord
    model: TaskModel


def run_one(
    *, strategy_name: str, strategy: Strategy, backbone: Backbone, tasks: list[EncodedTask], row0: RowZero,
    evaluator: Evaluator, context: RunContext, config: SuiteConfig, spec: ScenarioSpec, order: int,
    environment: dict[str, object], progress: bool,
) -> RunOutcome:
    """Runs one strategy over one task order with one seed; returns its record and model."""
    seed = context.seed
    start = time.perf_counter()
    torch.manual_seed(derived_seed(seed, 0))
    model = new_model(backbone, tasks, seed, context.device)
    total_parameters = count_parameters(model)
    strategy.bind(context)
    model = strategy.wrap_model(model)
    n = len(tasks)
    matrix: list[list[float | None]] = [list(row0.accuracy)] + [[None] * n for _ in range(n)]
    perplexity: list[float | None] = [row0.perplexity] + [None] * n
    bits: list[float | None] = [row0.bits_per_byte] + [None] * n
    timings: list[TaskTiming] = []
    trainable = 0
    status, error = "finished", None
    # The joint reference trains once on all tasks and fills only the last row.
    steps = [(n, tasks)] if strategy.joint else [(t, [task]) for t, task in enumerate(tasks, 1)]
    for t, learning in steps:
        torch.manual_seed(derived_seed(seed, t))
        generator = torch.Generator().manual_seed(derived_seed(seed, t, 1))
        name = "joint" if strategy.joint else learning[0].name
        tick = time.perf_counter()
        try:
            for task in learning:
                strategy.before_task(model, task)
            trainable = max(trainable, count_parameters(model, trainable_only=True))
            stats = train_tasks(
                model, learning, strategy, config.train, pad_id=backbone.pad_id, generator=generator,
                progress=progress, description=f"{strategy_name} s{seed} task {t}/{n} {name}",
            )
            for task in learning:
                strategy.after_task(model, task)
        except NumericalFault as fault:
            status, error = "failed", str(fault)
            break
        trained = time.perf_counter()
        columns = range(n) if strategy.joint else evaluation_columns(t, n, config.eval.eval_on)
        for j in columns:
            matrix[t][j] = evaluator.accuracy(model, tasks[j])
        evaluated = time.perf_counter()
        perplexity[t], bits[t] = evaluator.language_model(model)
        timings.append(TaskTiming(task=name, train_s=trained - tick, eval_s=evaluated - trained, ppl_s=time.perf_counter() - evaluated, steps=stats.steps))
    finished = status == "finished"
    metrics = compute_metrics(as_matrix(matrix), perplexity, bits) if finished else {}
    parameters = {
        "total": total_parameters,
        "trainable": trainable,
        "added": count_parameters(model) - total_parameters,
        "extra_bytes": strategy.extra_memory_bytes(),
    }
    record = RunRecord(
        scenario=spec.name, scenario_version=spec.version, order=order, tasks=[t.name for t in tasks],
        strategy=strategy_name, seed=seed, model=backbone.name, setting=config.setting,
        accuracy_matrix=matrix, perplexity=perplexity, bits_per_byte=bits, metrics=metrics, parameters=parameters,
        timings=timings, total_seconds=time.perf_counter() - start,
        data_hashes={t.name: t.data_hash for t in tasks}, source_hashes={t.name: t.source_hash for t in tasks},
        config=to_dict(config), environment=environment,
        status=status, error=error, reference=strategy.reference, created_at=dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
        extra={"row0_seconds": row0.seconds},
    )
    return RunOutcome(record=record, model=model)


def run_suite(config: SuiteConfig, *, on_run: Callable[[RunOutcome, Path], None] | None = None) -> list[RunRecord]:
    """Runs every (order, seed, strategy) of ``config`` and writes one record per run.

    ``on_run`` is called after each run with its outcome (record and trained model)
    and the record's path.

    Raises:
        UserError: Before anything is written, for any mistake in names, files or data.
    """
    spec = load_scenario(config.scenario)
    orders = list(range(1, len(spec.orders) + 1)) if config.orders == "all" else config.orders
    for order in orders:
        spec.ordered_tasks(order)
    for name in config.strategies:
        build_strategy(name, config.strategy_args)  # validates names and arguments before any work
    device = resolve_device(config.device)
    check_writable(config.out)
    if not config.progress:
        from transformers.utils import logging as transformers_logging

        transformers_logging.disable_progress_bar()
    data = prepare_data(config, spec)
    backbone = load_backbone(config.model, kind=config.model_kind, texts=data.vocabulary_texts())

    threads = config.threads or physical_cores()
    torch.set_num_threads(threads)
    environment = describe_environment(threads, str(device))
    corpus = (
        encode_corpus(backbone, data.corpus_documents, context=config.eval.ppl_context, budget=config.eval.ppl_tokens)
        if data.corpus_documents else None
    )
    general_texts = data.corpus_documents[corpus.documents_used:] if corpus else []
    evaluator = Evaluator(backbone=backbone, corpus=corpus, config=config)
    records: list[RunRecord] = []
    runs = [(order, seed, name) for order in orders for seed in config.seeds for name in config.strategies]
    outer = tqdm(total=len(runs), desc="runs", unit="run", disable=not config.progress, dynamic_ncols=True)
    for order in orders:
        for seed in config.seeds:
            datasets = [data.by_seed[seed][task.name] for task in spec.ordered_tasks(order)]
            tasks = encode_tasks(backbone, datasets, config.setting)
            key = row0_key({
                "model": backbone.fingerprint, "tasks": [(t.name, t.head, t.data_hash) for t in tasks], "seed": seed,
                "setting": config.setting, "eval": to_dict(config)["eval"], "precision": config.train.precision,
            })
            row0, _ = cached_row0(config.out, key, lambda: compute_row0(backbone, tasks, seed, evaluator, device))
            for name in config.strategies:
                outer.set_postfix_str(f"{name} seed {seed} order {order}")
                context = RunContext(seed=seed, train=config.train, backbone=backbone, tasks=tasks, corpus=corpus, general_texts=general_texts, device=device)
                outcome = run_one(
                    strategy_name=name, strategy=build_strategy(name, config.strategy_args), backbone=backbone, tasks=tasks, row0=row0, evaluator=evaluator,
                    context=context, config=config, spec=spec, order=order, environment=environment, progress=config.progress,
                )
                path = write_record(config.out, outcome.record)
                records.append(outcome.record)
                if on_run is not None:
                    on_run(outcome, path)
                outer.update()
    outer.close()
    return records

