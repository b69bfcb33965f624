"""Shared fixtures: an isolated cache, toy scenarios on local files, and CLI helpers."""

from __future__ import annotations

import random
import textwrap
from pathlib import Path

import pandas as pd
import pytest

SHARED_DATA = Path(__file__).resolve().parents[2] / "shared" / "data"

FILLER = (
    "the a of and to in is it that was for on with as his they at be this from have or by one had not but what all "
    "were when we there can an your which their said if do will each about how up out them then she many some so"
).split()


@pytest.fixture(autouse=True)
def one_torch_thread(monkeypatch: pytest.MonkeyPatch) -> None:
    """Runs without --threads use one torch thread (the harness reads OMP_NUM_THREADS), whatever the machine's cores.

    Measured on the 2-core VM: a toy run takes the same 1.5-1.7 s on one thread as on two when the machine is quiet,
    but 2.2 s against 12-18 s when another process keeps the cores busy (OpenMP threads then wait on each other).
    Tests of thread counts pass --threads themselves."""
    monkeypatch.setenv("OMP_NUM_THREADS", "1")


@pytest.fixture(autouse=True)
def isolated_cache(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Every test gets its own forgetbench cache (tokenised data, converted models)."""
    path = tmp_path_factory.mktemp("fbcache")
    monkeypatch.setenv("FORGETBENCH_CACHE", str(path))
    return path


def keyword_task(name: str, labels: list[str], n_per_class: int, seed: int) -> pd.DataFrame:
    """A learnable toy task: each text holds filler words plus keywords of its class."""
    rng = random.Random(f"{name}-{seed}")
    rows = []
    for label in labels:
        keywords = [f"{name[:3]}{label}{k}" for k in range(3)]
        for i in range(n_per_class):
            words = rng.sample(FILLER, rng.randint(4, 12)) + [rng.choice(keywords) for _ in range(rng.randint(1, 2))]
            rng.shuffle(words)
            rows.append({"text": " ".join(words) + f" n{i}", "label": label})
    return pd.DataFrame(rows)


def write_toy_scenario(
    directory: Path, *, n_tasks: int = 3, n_per_class: int = 60, train_size: int = 60, test_size: int = 24,
    name: str = "toy", corpus: bool = True,
) -> Path:
    """Writes CSV tasks, a corpus and a scenario YAML under ``directory``; returns the YAML path."""
    directory.mkdir(parents=True, exist_ok=True)
    label_sets = [["neg", "pos"], ["red", "green", "blue"], ["up", "down"], ["cat", "dog"]]
    tasks = []
    for t in range(n_tasks):
        task_name = f"task{t + 1}"
        labels = label_sets[t % len(label_sets)]
        keyword_task(task_name, labels, n_per_class, seed=t).to_csv(directory / f"{task_name}.csv", index=False)
        tasks.append(
            f"""
  - name: {task_name}
    source: {{loader: local_files, args: {{path: {directory / f'{task_name}.csv'}}}}}
    labels: [{', '.join(labels)}]
    train_size: {train_size}
    test_size: {test_size}
    max_length: 24"""
        )
    names = [f"task{t + 1}" for t in range(n_tasks)]
    text = f"name: {name}\nversion: 1\ndescription: toy keyword tasks for tests\ntasks:" + "".join(tasks)
    text += f"\norders:\n  - [{', '.join(names)}]\n  - [{', '.join(reversed(names))}]\n"
    if corpus:
        rng = random.Random(7)
        docs = [" ".join(rng.choice(FILLER) for _ in range(80)) for _ in range(30)]
        pd.DataFrame({"text": docs}).to_csv(directory / "corpus.csv", index=False)
        text += textwrap.dedent(
            f"""\
            perplexity:
              source: {{loader: local_files, args: {{path: {directory / 'corpus.csv'}}}}}
            """
        )
    path = directory / f"{name}.yaml"
    path.write_text(text, encoding="utf-8")
    return path


@pytest.fixture
def toy_scenario(tmp_path: Path) -> Path:
    """A 3-task toy scenario (2, 3 and 2 classes) with a general corpus."""
    return write_toy_scenario(tmp_path / "toy")


def smoke_args(scenario: Path, out: Path, *extra: str) -> list[str]:
    """CLI arguments for a fast run of ``scenario`` on the tiny model."""
    return [
        "--scenario", str(scenario), "--model", "tiny", "--out", str(out), "--no-progress", "--strategies", "naive",
        "--set", "train.lr=0.003", "--set", "train.head_lr=0.01", "--set", "train.batch_size=8",
        "--set", "eval.ppl_tokens=512", "--set", "eval.ppl_context=64", *extra,
    ]


def run_toy_suite(scenario: Path, out: Path, strategy: str, *layers: dict) -> "RunOutcome":  # noqa: F821 - imported lazily
    """One strategy's run on a toy scenario with the tiny model, in this process: the outcome (record and final model).

    ``layers`` are config overrides on top of the toy budget, later ones winning.
    """
    import benchmark.suite.runner as runner
    from benchmark.suite.config import build_config

    config = build_config(overrides=[{
        "scenario": str(scenario), "model": "tiny", "out": str(out), "progress": False, "strategies": [strategy],
        "train": {"lr": 3e-3, "batch_size": 8, "epochs": 1}, "eval": {"ppl_tokens": 256, "ppl_context": 64, "eval_on": "all"},
    }, *layers])
    outcomes: list = []
    runner.run_suite(config, on_run=lambda outcome, path: outcomes.append(outcome))
    return outcomes[0]


def phrase_task(name: str, n: int, seed: int) -> pd.DataFrame:
    """A learnable free-text toy task: each text holds a keyword of one of three classes, answered by that class's phrase."""
    rng = random.Random(f"{name}-{seed}")
    phrases = [f"{name} alpha one", f"{name} beta two", f"{name} gamma three"]
    rows = []
    for i in range(n):
        c = i % len(phrases)
        words = rng.sample(FILLER, rng.randint(4, 8)) + [f"{name[:3]}kw{c}"]
        rng.shuffle(words)
        rows.append({"text": " ".join(words) + f" n{i}", "answer": phrases[c], "source": " ".join(words)})
    return pd.DataFrame(rows)


def write_free_text_scenario(
    directory: Path, *, metrics: tuple[str, ...] = ("rouge_l", "exact_match"), n: int = 60, train_size: int = 40, test_size: int = 12,
    name: str = "freetoy",
) -> Path:
    """Writes free-text CSV tasks (answer_field ``answer``: a phrase per keyword class; one task per metric) and a scenario YAML; returns the YAML path."""
    directory.mkdir(parents=True, exist_ok=True)
    tasks = []
    for t, metric in enumerate(metrics):
        task_name = f"gen{t + 1}"
        phrase_task(task_name, n, seed=t).to_csv(directory / f"{task_name}.csv", index=False)
        source = "\n    source_field: source" if metric == "sari" else ""
        tasks.append(
            f"""
  - name: {task_name}
    source: {{loader: local_files, args: {{path: {directory / f'{task_name}.csv'}}}}}
    answer_field: answer
    metric: {metric}{source}
    max_new_tokens: 6
    train_size: {train_size}
    test_size: {test_size}
    max_length: 24"""
        )
    names = [f"gen{t + 1}" for t in range(len(metrics))]
    text = f"name: {name}\nversion: 1\nformulation: generate\ndescription: toy free-text tasks for tests\ntasks:" + "".join(tasks)
    text += f"\norders:\n  - [{', '.join(names)}]\n"
    path = directory / f"{name}.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def write_data_folder(root: Path, files: dict[str, str | None]) -> Path:
    """A ``--data-dir`` folder holding ``files`` (relative path -> content; None: left absent); returns ``root``."""
    root.mkdir(parents=True, exist_ok=True)
    for relative, content in files.items():
        if content is not None:
            (root / relative).parent.mkdir(parents=True, exist_ok=True)
            (root / relative).write_text(content, encoding="utf-8")
    return root


def checked_splits(scenario: str, task_name: str) -> "TaskDataset":  # noqa: F821 - imported lazily
    """A registered scenario's task prepared at seed 0, after checking its splits: sized as set, disjoint, the same again, other at seed 1."""
    from scenarios.catalog import load_scenario
    from scenarios.prepare import prepare_task

    spec = load_scenario(scenario).task(task_name)
    first, again, other = (prepare_task(spec, seed=seed, data_dir=None, source_name=scenario) for seed in (0, 0, 1))
    assert len(first.train) == spec.train_size and len(first.test) == spec.test_size
    assert not {" ".join(t.lower().split()) for t in first.train.texts} & {" ".join(t.lower().split()) for t in first.test.texts}
    assert first.train.texts == again.train.texts and first.test.texts == again.test.texts and first.data_hash == again.data_hash
    assert first.train.texts != other.train.texts
    return first
