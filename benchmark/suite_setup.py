"""What every run of a suite shares, and one planned run executed against it.

The driver builds a :class:`SuiteSetup` to validate, plan and evaluate row 0; every
worker (``--launcher local`` or ``ray``) builds the same one from the same config and
runs :func:`execute_run` against it, which checks that it planned the same run.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch

from benchmark.backbones import Backbone, load_backbone
from benchmark.checkpoints import checkpoint_path
from benchmark.config import SuiteConfig, to_dict
from benchmark.encoding import EncodedCorpus, EncodedTask, encode_corpus, encode_tasks
from benchmark.environment import describe_environment, physical_cores
from benchmark.errors import UserError
from benchmark.evaluation import Evaluator
from benchmark.parallel import Parallel
from benchmark.records import check_run_id_length, run_id
from benchmark.row0_cache import RowZero, row0_key
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


@dataclass
class SuiteSetup:
    """What every run of a suite shares: data, backbone, corpus, evaluator, machine facts."""

    spec: ScenarioSpec
    data: PreparedData
    backbone: Backbone
    corpus: EncodedCorpus | None
    general_texts: list[str]
    evaluator: Evaluator
    device: torch.device
    parallel: Parallel
    environment: dict[str, Any]

    def tasks(self, config: SuiteConfig, order: int, seed: int) -> list[EncodedTask]:
        """The encoded tasks of one (order, seed), in training order."""
        datasets = [self.data.by_seed[seed][task.name] for task in self.spec.ordered_tasks(order)]
        return encode_tasks(self.backbone, datasets, config.setting)


@dataclass(frozen=True)
class PlannedRun:
    """One run of a suite, named and fingerprinted before anything executes."""

    order: int
    seed: int
    strategy: str
    run_id: str
    fingerprint: str
    row0_key: str


def setup_suite(
    config: SuiteConfig, *, threads: int, parallel: Parallel, launcher: str, data: PreparedData | None = None,
) -> SuiteSetup:
    """Loads data, backbone and corpus for ``config`` (the same in the driver and in every worker).

    ``data`` is the driver's prepared data, shipped to workers so that they neither read
    the source files again nor need them on their machine.
    """
    spec = load_scenario(config.scenario)
    device = parallel.device if parallel.processes > 1 else resolve_device(config.device)
    data = data if data is not None else prepare_data(config, spec)
    backbone = load_backbone(config.model, kind=config.model_kind, texts=data.vocabulary_texts())
    torch.set_num_threads(threads)
    corpus = (
        encode_corpus(backbone, data.corpus_documents, context=config.eval.ppl_context, budget=config.eval.ppl_tokens)
        if data.corpus_documents else None
    )
    environment = {**describe_environment(threads, str(device)), "launcher": launcher, "processes": parallel.processes}
    return SuiteSetup(
        spec=spec, data=data, backbone=backbone, corpus=corpus,
        general_texts=data.corpus_documents[corpus.documents_used:] if corpus else [],
        evaluator=Evaluator(backbone=backbone, corpus=corpus, config=config, parallel=parallel),
        device=device, parallel=parallel, environment=environment,
    )


def plan_runs(setup: SuiteSetup, config: SuiteConfig, orders: list[int]) -> list[PlannedRun]:
    """Every (order, seed, strategy) of the suite with its run id, fingerprint and row-0 key."""
    planned = []
    for order in orders:
        for seed in config.seeds:
            tasks = setup.tasks(config, order, seed)
            key = row0_key({
                "model": setup.backbone.fingerprint, "tasks": [(t.name, t.head, t.data_hash) for t in tasks], "seed": seed,
                "setting": config.setting, "eval": to_dict(config)["eval"], "precision": config.train.precision,
            })
            for name in config.strategies:
                rid = run_id(setup.spec.name, order, name, seed)
                check_run_id_length(rid)
                planned.append(PlannedRun(
                    order=order, seed=seed, strategy=name, run_id=rid,
                    fingerprint=run_fingerprint(config, setup.spec, name, setup.backbone, tasks, order, seed), row0_key=key,
                ))
    return planned


def execute_run(
    setup: SuiteSetup, config: SuiteConfig, planned: PlannedRun, row0: RowZero, results_dir: Path, *, progress: bool | None = None,
) -> RunOutcome:
    """Runs (or continues from its checkpoint in ``results_dir``) one planned run; writes no record.

    Every process of an accelerate launch calls this together; they agree on whether
    a checkpoint exists because the main one removes a stale one (``overwrite``) before
    any of them looks.
    """
    if config.overwrite and setup.parallel.is_main:
        checkpoint_path(results_dir, planned.run_id).unlink(missing_ok=True)
    setup.parallel.barrier()
    tasks = setup.tasks(config, planned.order, planned.seed)
    fingerprint_ = run_fingerprint(config, setup.spec, planned.strategy, setup.backbone, tasks, planned.order, planned.seed)
    if fingerprint_ != planned.fingerprint:
        raise RuntimeError(
            f"run {planned.run_id} sees different data or model here than where the suite was planned "
            "(a different forgetbench, package or data version on this machine?)"
        )
    context = RunContext(
        seed=planned.seed, train=config.train, backbone=setup.backbone, tasks=tasks, corpus=setup.corpus,
        general_texts=setup.general_texts, device=setup.device, parallel=setup.parallel,
    )
    return run_one(
        strategy_name=planned.strategy, strategy=build_strategy(planned.strategy, config.strategy_args), backbone=setup.backbone,
        tasks=tasks, row0=row0, evaluator=setup.evaluator, context=context, config=config, spec=setup.spec,
        order=planned.order, environment=setup.environment,
        progress=(config.progress if progress is None else progress) and setup.parallel.is_main,
        fingerprint_=planned.fingerprint, results_dir=results_dir,
    )


def run_threads(config: SuiteConfig) -> int:
    """torch threads of one run: ``threads``, else its CPU share under the launcher, else the physical cores."""
    launch = config.launch
    if config.threads:
        return config.threads
    if launch.launcher != "sequential" and launch.cpus_per_run:
        return launch.cpus_per_run
    if launch.launcher == "local":
        return max(1, physical_cores() // launch.jobs)
    if launch.launcher == "ray":
        return 1
    return physical_cores()
