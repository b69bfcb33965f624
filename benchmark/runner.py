"""A suite: every (order, seed, strategy) run of one scenario and model.

``run_suite`` validates everything a user can get wrong (names, files, data, memory)
before anything is written, prepares data and the backbone once, shares the row-0
evaluation between strategies, skips runs already recorded, continues interrupted
ones from their checkpoints, and writes one record per run atomically.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import torch
from tqdm.auto import tqdm

from benchmark.backbones import Backbone, load_backbone
from benchmark.checkpoints import checkpoint_path
from benchmark.config import SuiteConfig, to_dict
from benchmark.encoding import EncodedTask, encode_corpus, encode_tasks
from benchmark.environment import describe_environment, physical_cores
from benchmark.errors import UserError
from benchmark.evaluation import Evaluator
from benchmark.memory_guard import check_memory
from benchmark.records import RunRecord, read_record, record_path, run_id, write_record
from benchmark.row0_cache import RowZero, cached_row0, row0_key
from benchmark.run_context import RunContext
from benchmark.single_run import RunOutcome, new_model, run_fingerprint, run_one
from scenarios.catalog import load_scenario
from scenarios.prepare import TaskDataset, prepare_corpus, prepare_task
from scenarios.spec import ScenarioSpec
from strategies.base import build_strategy

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


def compute_row0(backbone: Backbone, tasks: list[EncodedTask], seed: int, evaluator: Evaluator, device: torch.device) -> RowZero:
    """Evaluates the untouched pretrained model (with seeded heads) on every task and the corpus."""
    model = new_model(backbone, tasks, seed, device)
    accuracy = [evaluator.accuracy(model, task) for task in tasks]
    perplexity, bits = evaluator.language_model(model)
    return RowZero(accuracy=accuracy, perplexity=perplexity, bits_per_byte=bits, seconds=0.0)


def _existing_record(config: SuiteConfig, rid: str, fingerprint_: str) -> RunRecord | None:
    """The record of a run that already completed with this configuration (None: run it)."""
    path = record_path(config.out, rid)
    if config.overwrite or not path.is_file():
        return None
    try:
        record = read_record(path)
    except (OSError, ValueError, KeyError, TypeError):
        return None  # a damaged record is simply redone
    if record.fingerprint != fingerprint_:
        raise UserError(
            f"{path} holds run {rid} made with a different configuration; pass --overwrite to run it again "
            "or choose another --out"
        )
    return record


def run_suite(config: SuiteConfig, *, on_run: Callable[[RunOutcome, Path], None] | None = None) -> list[RunRecord]:
    """Runs every (order, seed, strategy) of ``config`` and writes one record per run.

    Runs whose record already exists with the same configuration are skipped, and
    unfinished ones continue from their last checkpoint (``config.overwrite`` starts
    everything again). ``on_run`` is called after each run that executed here with its
    outcome (record and trained model) and the record's path.

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
    longest = max(d.spec.max_length for tasks in data.by_seed.values() for d in tasks.values())
    check_memory(backbone, [build_strategy(name, config.strategy_args) for name in config.strategies], config, longest)

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
            row0: RowZero | None = None
            for name in config.strategies:
                outer.set_postfix_str(f"{name} seed {seed} order {order}")
                rid = run_id(spec.name, order, name, seed)
                fingerprint_ = run_fingerprint(config, spec, name, backbone, tasks, order, seed)
                done = _existing_record(config, rid, fingerprint_)
                if done is not None:
                    records.append(done)
                    outer.update()
                    continue
                if config.overwrite:
                    checkpoint_path(config.out, rid).unlink(missing_ok=True)
                if row0 is None:
                    row0, _ = cached_row0(config.out, key, lambda: compute_row0(backbone, tasks, seed, evaluator, device))
                context = RunContext(seed=seed, train=config.train, backbone=backbone, tasks=tasks, corpus=corpus, general_texts=general_texts, device=device)
                outcome = run_one(
                    strategy_name=name, strategy=build_strategy(name, config.strategy_args), backbone=backbone, tasks=tasks,
                    row0=row0, evaluator=evaluator, context=context, config=config, spec=spec, order=order,
                    environment=environment, progress=config.progress, fingerprint_=fingerprint_, results_dir=Path(config.out),
                )
                path = write_record(config.out, outcome.record)
                if not config.keep_checkpoints:
                    checkpoint_path(config.out, rid).unlink(missing_ok=True)
                records.append(outcome.record)
                if on_run is not None:
                    on_run(outcome, path)
                outer.update()
    outer.close()
    return records
