"""General ability through lm-evaluation-harness, scored on the model in memory (no checkpoint is written).

lm-eval's ``HFLM`` takes an already-built transformers model (a peft model too), so the
measure hands it the run's model as it is and calls ``lm_eval.simple_evaluate``: the
numbers are lm-eval's own, from its own request building, batching and metrics. Tasks
are any registered lm-eval task (their data come from the hub: a network is needed) or
the harness's offline ones in ``lm_eval_tasks/`` (YAML files over the cl_benchmark
layout under ``lm_eval.data_dir``): for those a copy of each YAML with absolute data
paths is written to a temporary folder that lm-eval includes.

lm-eval seeds Python's, numpy's and torch's global generators unless told not to; a
measure must not change a run's random stream, so those seeds are passed as None (the
few-shot sampler keeps its own fixed seed). lm-eval is imported only here, lazily: it
is the optional ``[lmeval]`` extra.
"""

from __future__ import annotations

import contextlib
import difflib
import logging
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
import yaml
from torch import nn

from benchmark.core.errors import UserError
from benchmark.core.hub import cache_only, hub_reachable
from benchmark.core.lm_eval_config import LOCAL_TASKS, LmEvalConfig

TASKS_DIR = Path(__file__).with_name("lm_eval_tasks")
FEWSHOT_SEED = 1234  # lm-eval's default: the same few-shot examples for every row and run
METRIC = "acc,none"
INSTALL = "pip install -e '.[lmeval]' (lm-eval 0.4.13)"
_PRECISION = {"fp32": None, "bf16": torch.bfloat16, "fp16": torch.float16}


def _task_spec(name: str) -> dict:
    return yaml.safe_load((TASKS_DIR / f"{name}.yaml").read_text(encoding="utf-8"))


def _data_files(name: str, data_dir: Path) -> dict[str, Path]:
    return {split: data_dir / relative for split, relative in _task_spec(name)["dataset_kwargs"]["data_files"].items()}


def check_settings(settings: LmEvalConfig, source: str) -> None:
    """Refuses, before any work, a missing lm-eval, a local task without its files, and an unknown task name."""
    try:
        from lm_eval.tasks import TaskManager
    except ImportError as exc:
        raise UserError(f"measure 'lm_eval' needs lm-evaluation-harness, which is not installed ({exc}); run {INSTALL}") from exc
    local = [t for t in settings.tasks if t in LOCAL_TASKS]
    if local and settings.data_dir is None:
        raise UserError(
            f"{source}: lm-eval task {local[0]!r} reads files in the cl_benchmark layout, but 'lm_eval.data_dir' is not set; "
            "pass --set lm_eval.data_dir=DIR (the folder holding COPA/, BoolQA/, CB/, RTE/, SST-2/)"
        )
    for name in local:
        for split, path in _data_files(name, Path(settings.data_dir)).items():
            if (split == "test" or settings.num_fewshot) and not path.is_file():
                raise UserError(f"{source}: lm-eval task {name!r} needs {path}, which does not exist; check 'lm_eval.data_dir'")
    others = [t for t in settings.tasks if t not in local]
    if others:
        manager = _quiet(TaskManager)
        known = set(manager.all_tasks) | set(LOCAL_TASKS)
        for name in others:
            if name not in known:
                close = difflib.get_close_matches(name, sorted(known), n=1)
                hint = f"did you mean {close[0]!r}?" if close else "see 'lm_eval ls tasks'"
                raise UserError(f"{source}: 'lm_eval.tasks' names {name!r}, which lm-eval does not know; {hint}")
        if not hub_reachable():
            _check_cached(manager, others, source)


def _check_cached(manager: object, names: list[str], source: str) -> None:
    """Refuses, before any work, hub tasks whose data are not in the local cache when the hub is unreachable.

    Loading a task builds its dataset: from the cache only, that fails at once for data never
    downloaded (instead of a ConnectionError after the run's first row was computed).
    """
    for name in names:
        try:
            with cache_only():
                _quiet(lambda name=name: manager.load_task_or_group([name]))  # type: ignore[attr-defined]
        except Exception as exc:  # noqa: BLE001 - datasets raises several types for data that are not cached
            raise UserError(
                f"{source}: lm-eval task {name!r} reads its data from the Hugging Face Hub, which is unreachable from here, and they are "
                f"not in the local cache ({type(exc).__name__}); use the offline tasks {', '.join(LOCAL_TASKS)} with lm_eval.data_dir, "
                "or run once where the Hub is reachable"
            ) from exc


def _quiet(call):  # noqa: ANN001, ANN202 - any zero-argument callable and its result
    """Runs ``call`` with lm-eval's loggers at ERROR (it warns about every pre-built model and every task it indexes)."""
    loggers = [logging.getLogger(name) for name in ("lm-eval", "lm_eval")]
    levels = [logger.level for logger in loggers]
    for logger in loggers:
        logger.setLevel(logging.ERROR)
    try:
        return call()
    finally:
        for logger, level in zip(loggers, levels):
            logger.setLevel(level)


@contextlib.contextmanager
def resolved_tasks(settings: LmEvalConfig) -> Iterator[Path]:
    """A temporary folder with a copy of each local task's YAML, its data paths made absolute (lm-eval includes it)."""
    with tempfile.TemporaryDirectory(prefix="forgetbench-lm-eval-") as folder:
        for name in (t for t in settings.tasks if t in LOCAL_TASKS):
            spec = _task_spec(name)
            files = _data_files(name, Path(settings.data_dir or "."))
            if not settings.num_fewshot:  # zero-shot never reads the training file: do not make lm-eval load it
                files = {"test": files["test"]}
                spec.pop("fewshot_split", None)
            spec["dataset_kwargs"]["data_files"] = {split: str(path.resolve()) for split, path in files.items()}
            (Path(folder) / f"{name}.yaml").write_text(yaml.safe_dump(spec, sort_keys=False), encoding="utf-8")
        yield Path(folder)


@dataclass(frozen=True)
class GeneralAbility:
    """lm-eval's accuracy per task, and per task each example's gold and chosen answer index (in lm-eval's order)."""

    accuracy: dict[str, float]
    gold: dict[str, np.ndarray]
    chosen: dict[str, np.ndarray]


def _outcomes(samples: list[dict]) -> tuple[np.ndarray, np.ndarray]:
    ordered = sorted(samples, key=lambda s: s["doc_id"])
    gold = np.array([int(s["target"]) for s in ordered], dtype=np.int64)
    chosen = np.array([int(np.argmax([float(r[0]) for r in s["filtered_resps"]])) for s in ordered], dtype=np.int64)
    return gold, chosen


@contextlib.contextmanager
def quiet_harness(progress: bool) -> Iterator[None]:
    """lm-eval without its progress bars (when the run has none) and without its git lookup.

    lm-eval asks ``git describe`` for its results' hash, and git prints "fatal: not a git
    repository" outside one; the record stores the run's own git hash. tqdm reads its
    environment only at import, so ``--no-progress`` is passed to every bar lm-eval opens here.
    """
    import lm_eval.evaluator
    from tqdm import tqdm

    saved_hash, saved_init = lm_eval.evaluator.get_git_commit_hash, tqdm.__init__

    def silent_init(self: tqdm, *args: object, **kwargs: object) -> None:
        saved_init(self, *args, **{**kwargs, "disable": True})

    lm_eval.evaluator.get_git_commit_hash = lambda: None
    if not progress:
        tqdm.__init__ = silent_init
    try:
        yield
    finally:
        lm_eval.evaluator.get_git_commit_hash, tqdm.__init__ = saved_hash, saved_init


def evaluate(model: nn.Module, tokenizer: object, settings: LmEvalConfig, *, backend: str, precision: str = "fp32",
             progress: bool = True) -> GeneralAbility:
    """lm-eval's scores of ``model`` (a transformers or peft model, in memory) on ``settings.tasks``.

    Args:
        model: The model to score, with its language-model head; left as it is.
        tokenizer: Its tokenizer.
        settings: Tasks, ``limit``, ``num_fewshot`` and batch size.
        backend: ``causal`` or ``seq2seq`` (lm-eval's names).
        precision: The run's autocast precision (lm-eval's ``mixed_precision_dtype``).
        progress: Whether lm-eval may show its progress bars.
    """
    import lm_eval
    from lm_eval.models.huggingface import HFLM
    from lm_eval.tasks import TaskManager

    with resolved_tasks(settings) as folder:
        only_local = all(t in LOCAL_TASKS for t in settings.tasks)
        manager = _quiet(lambda: TaskManager(include_path=str(folder), include_defaults=not only_local))
        lm = _quiet(lambda: HFLM(pretrained=model, tokenizer=tokenizer, backend=backend, batch_size=settings.batch_size,
                                 mixed_precision_dtype=_PRECISION[precision]))
        with quiet_harness(progress):
            results = _quiet(lambda: lm_eval.simple_evaluate(
            model=lm, tasks=list(settings.tasks), num_fewshot=settings.num_fewshot, limit=settings.limit, task_manager=manager,
                bootstrap_iters=0, log_samples=True, random_seed=None, numpy_random_seed=None, torch_random_seed=None,
                fewshot_random_seed=FEWSHOT_SEED,
            ))
    accuracy, gold, chosen = {}, {}, {}
    for task in settings.tasks:
        if METRIC not in results["results"].get(task, {}):
            raise UserError(f"lm-eval task {task!r} reports no accuracy ('acc'); name multiple-choice tasks in 'lm_eval.tasks'")
        accuracy[task] = float(results["results"][task][METRIC])
        gold[task], chosen[task] = _outcomes(results["samples"][task])
    return GeneralAbility(accuracy, gold, chosen)
