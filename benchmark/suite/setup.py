"""What every run of a suite shares: its data, backbone, corpus and measures, built once per process.

The driver builds a :class:`SuiteSetup` to validate, plan and take row 0; every worker
(``--launcher local`` or ``ray``) builds the same one from the same config and the
driver's prepared data (which carries the scenario, so nothing is read twice).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch

from benchmark.core.config import RANDOM_SUFFIX, SuiteConfig
from benchmark.core.environment import default_threads, describe_environment, physical_cores
from benchmark.core.errors import MissingFiles, UserError
from benchmark.engine.formulations import formulation
from benchmark.engine.measures import Measure, MeasureEnv, build_measures
from benchmark.engine.parallel import Parallel
from benchmark.model.layers import transformer_blocks
from benchmark.model.backbones import Backbone, load_backbone
from benchmark.model.random_weights import random_backbone
from benchmark.model.weights_dtype import resolve_weights_dtype
from benchmark.model.encoding import EncodedCorpus, EncodedTask, encode_corpus
from scenarios.prepare import TaskDataset, prepare_corpus, prepare_task
from scenarios.spec import ScenarioSpec

VOCAB_CORPUS_DOCUMENTS = 200


@dataclass
class PreparedData:
    """A scenario's data for every seed of a suite, and its general corpus."""

    spec: ScenarioSpec
    by_seed: dict[int, dict[str, TaskDataset]]
    corpus_documents: list[str] = field(default_factory=list)

    def vocabulary_texts(self, posed: list[str] | None = None) -> list[str]:
        """Texts a data-built tokenizer (the tiny model's) learns its words from; seed-independent.

        ``posed``: the words the formulation asks and answers in (its
        :meth:`Formulation.vocabulary_texts`; posed as text, the prompts' templates,
        instructions, answers and a chat template's roles), counted with the examples'.
        """
        first = next(iter(self.by_seed.values()))
        texts = [t for dataset in first.values() for t in dataset.pool_texts]
        return texts + (posed or []) + self.corpus_documents[:VOCAB_CORPUS_DOCUMENTS]


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


def all_missing(missing: list[MissingFiles], source: str) -> UserError:
    """One error naming every missing file of a scenario (the task's own sentence when only one task misses files)."""
    if len(missing) == 1:
        return missing[0]
    paths = [p for exc in missing for p in exc.paths]
    return UserError(
        f"{source} needs {len(paths)} file(s) that are missing: {', '.join(paths)}; put them there, pass --data-dir pointing at the "
        "folder that holds them, or copy the scenario file without those tasks"
    )


def prepare_data(config: SuiteConfig, spec: ScenarioSpec) -> PreparedData:
    """Loads and splits every task for every seed (this is where bad data is reported)."""
    data_dir = Path(config.data_dir).expanduser() if config.data_dir else None
    if data_dir is not None and not data_dir.is_dir():
        raise UserError(f"--data-dir {config.data_dir!r} is not a directory; pass the folder that holds the scenario's files")
    source = f"scenario {spec.name!r}"
    by_seed: dict[int, dict[str, TaskDataset]] = {}
    missing: list[MissingFiles] = []  # collected over every task, so one message names every missing file
    for seed in config.seeds:
        by_seed[seed] = {}
        for task in spec.tasks:
            try:
                by_seed[seed][task.name] = prepare_task(
                    task, seed=seed, data_dir=data_dir, source_name=source, train_size=config.train_size, test_size=config.test_size,
                )
            except MissingFiles as exc:
                missing.append(exc)
        if missing:
            break
    documents: list[str] = []
    if spec.perplexity is not None and config.eval.ppl_tokens > 0:
        try:
            documents = prepare_corpus(spec.perplexity, data_dir=data_dir, source_name=source)
        except MissingFiles as exc:
            missing.append(exc)
    if missing:
        raise all_missing(missing, source)
    return PreparedData(spec=spec, by_seed=by_seed, corpus_documents=documents)



@dataclass
class SuiteSetup:
    """What every run of a suite shares: data, backbone, corpus, measures, machine facts."""

    spec: ScenarioSpec
    data: PreparedData
    backbone: Backbone
    corpus: EncodedCorpus | None
    general_texts: list[str]
    measures: dict[str, Measure]
    measure_env: MeasureEnv
    device: torch.device
    parallel: Parallel
    environment: dict[str, Any]
    _encoded: dict[tuple[str, str, int, int], list[EncodedTask]] = field(default_factory=dict, init=False, repr=False)

    def tasks(self, config: SuiteConfig, order: int, seed: int) -> list[EncodedTask]:
        """The encoded tasks of one (order, seed), in training order: encoded once, then shared (runs only read them)."""
        key = (config.formulation, config.setting, order, seed)
        if key not in self._encoded:
            ordered = self.spec.ordered_tasks(order)
            datasets = [self.data.by_seed[seed][task.name] for task in ordered]
            self._encoded[key] = formulation(config.formulation).encode_tasks(self.backbone, datasets, self.spec, ordered, config.setting)
        return self._encoded[key]


def setup_suite(
    config: SuiteConfig, *, threads: int, parallel: Parallel, launcher: str, spec: ScenarioSpec | None = None,
    data: PreparedData | None = None,
) -> SuiteSetup:
    """Loads data, backbone, corpus and measures for ``config`` (the same in the driver and in every worker).

    Args:
        config: The suite.
        threads: torch threads of this process.
        parallel: The processes a run is spread over.
        launcher: Recorded in every record's environment.
        spec: The scenario, loaded once by the suite's driver (needed without ``data``).
        data: The driver's prepared data, shipped to workers so that they neither read the
            source files again nor need them on their machine.
    """
    if data is None and spec is None:
        raise ValueError("setup_suite needs the scenario or the prepared data")
    device = parallel.device if parallel.processes > 1 else resolve_device(config.device)
    data = data if data is not None else prepare_data(config, spec)
    posed = formulation(config.formulation).vocabulary_texts(data.spec)  # counted like any text, and known however rare
    weights = resolve_weights_dtype(config.dtype, device)
    backbone = suite_backbone(config, data.vocabulary_texts(posed), posed, weights)
    if config.train.gradient_checkpointing and not backbone.model.supports_gradient_checkpointing:
        raise UserError(f"--gradient-checkpointing: model {config.model!r} ({type(backbone.model).__name__}) does not support activation checkpointing; leave the flag out")
    check_frozen_layers(config, backbone)
    torch.set_num_threads(threads)
    corpus = (
        encode_corpus(backbone, data.corpus_documents, context=config.eval.ppl_context, budget=config.eval.ppl_tokens)
        if data.corpus_documents else None
    )
    environment = {**describe_environment(threads, str(device)), "launcher": launcher, "processes": parallel.processes, "dtype": weights}
    general_texts = data.corpus_documents[corpus.documents_used:] if corpus else []  # never scored for perplexity
    return SuiteSetup(
        spec=data.spec, data=data, backbone=backbone, corpus=corpus, general_texts=general_texts,
        measures=build_measures(config.measures, config),
        measure_env=MeasureEnv(backbone=backbone, corpus=corpus, config=config, parallel=parallel, general_texts=general_texts),
        device=device, parallel=parallel, environment=environment,
    )


def check_frozen_layers(config: SuiteConfig, backbone: Backbone) -> None:
    """Refuses ``train.freeze_layers`` that would leave no block of the backbone to train."""
    k = config.train.freeze_layers
    if k:
        _, blocks = transformer_blocks(backbone.model.base_model)
        if k >= len(blocks):
            raise UserError(
                f"--freeze-layers {k}: model {config.model!r} has {len(blocks)} transformer blocks, so freeze fewer than "
                f"{len(blocks)} (to train no backbone layer at all, use the frozen strategy)"
            )


def suite_backbone(config: SuiteConfig, texts: list[str], reserved: list[str], dtype: str) -> Backbone:
    """The suite's backbone: ``--model`` loaded in ``dtype``, or drawn afresh for ``NAME:random``."""
    def load(name: str, weights: str = "fp32") -> Backbone:
        return load_backbone(name, kind=config.model_kind, texts=texts, reserved=reserved, dtype=weights)

    if config.model.endswith(RANDOM_SUFFIX):
        return random_backbone(config.model.removesuffix(RANDOM_SUFFIX), load, dtype)
    return load(config.model, dtype)


def run_threads(config: SuiteConfig) -> int:
    """torch threads of one run: ``threads``, else its CPU share under the launcher, else :func:`default_threads`."""
    launch = config.launch
    if config.threads:
        return config.threads
    if launch.launcher != "sequential" and launch.cpus_per_run:
        return launch.cpus_per_run
    if launch.launcher == "local":
        return max(1, physical_cores() // launch.jobs)
    if launch.launcher == "ray":
        return 1
    return default_threads()
