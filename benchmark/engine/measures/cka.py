"""``cka``: how far each layer's representation has drifted from the pretrained model's (linear CKA, per layer).

After row 0 and every task, linear CKA (Kornblith et al. 2019) between the pretrained
model and the current one, layer by layer (embeddings first, final layer last), on two
fixed input sets that are the same at every row:

- ``cka_corpus``: the hidden states at :data:`CORPUS_TOKENS` seeded token positions of
  the first :data:`CORPUS_WINDOWS` general-corpus windows, on the language-model path (the modules the perplexity
  is measured with; with heads: none, so adapters and LoRA leave it at 1).
- ``cka_tasks``: per task, the pooled features of its whole test split through its own
  path, for every task whose accuracy is measured at the row (a per-task series, like
  the accuracy matrix). These are the features of the accuracy pass itself
  (:meth:`MeasureEnv.task_features`), so they cost no forward pass.

CKA is computed once over the whole set (n inputs), not averaged over mini-batches,
which would bias it. The pretrained model's features are row 0's own (the untouched
model), kept for the suite; a process that did not compute row 0 (row 0 read from the
cache, a worker) computes them once, with the same batches. Each value is a list over
layers.
"""

from __future__ import annotations

import math
from typing import Any

import torch

from benchmark.core.hashing import derived_seed
from benchmark.engine.measures.base import Measure, MeasureEnv, MeasurePoint, refuse_small_test_splits, register_measure
from benchmark.engine.representations import linear_cka, split_features, token_features
from benchmark.model.encoding import EncodedTask
from benchmark.model.task_model import TaskModel

CORPUS_TOKENS = 512
MIN_TASK_EXAMPLES = 10  # cka_tasks' inputs: a task's test split
CORPUS_WINDOWS = 4  # 4 x 256 tokens by default: enough positions for n = 512, a small share of a run's passes


def corpus_positions(lengths: list[int], n: int) -> list[tuple[int, int]]:
    """``n`` seeded (window, position) pairs over windows of ``lengths`` (all of them if there are fewer), position 0 left out."""
    pairs = [(w, p) for w, length in enumerate(lengths) for p in range(1, length)]
    if len(pairs) <= n:
        return pairs
    chosen = torch.randperm(len(pairs), generator=torch.Generator().manual_seed(derived_seed("cka corpus positions")))[:n]
    return [pairs[i] for i in sorted(chosen.tolist())]


def per_layer_cka(reference: torch.Tensor, current: torch.Tensor) -> list[float | None]:
    """Linear CKA of each layer, for features of shape (layers + 1, n, hidden); None where it is undefined.

    A layer whose features are the same for every input has no CKA (an encoder's
    first-token embedding is one vector for every text): None, which a record can hold.
    """
    values = [linear_cka(reference[k], current[k]) for k in range(reference.shape[0])]
    return [None if math.isnan(value) else value for value in values]


@register_measure("cka")
class Cka(Measure):
    """Per-layer linear CKA against the pretrained model, on general-corpus tokens and on each measured task's test texts."""

    series = {"cka_corpus": "per_row", "cka_tasks": "per_task"}
    reads_features = True
    model_kinds = ("causal", "encoder")

    def __init__(self) -> None:
        self._reference: dict[Any, torch.Tensor] = {}  # the pretrained model's features, by input set

    def check_setup(self, env: MeasureEnv, test_sizes: dict[str, int]) -> None:
        # On 2 inputs centred Gram matrices are multiples of one matrix, so CKA is 1 whatever the model; on a handful it is noise.
        refuse_small_test_splits("cka", test_sizes, MIN_TASK_EXAMPLES, "linear CKA over fewer inputs is 1 or noise, whatever the model")

    def measure(self, model: TaskModel, point: MeasurePoint, env: MeasureEnv) -> dict[str, Any]:
        pretrained = TaskModel(env.backbone.model, kind=env.backbone.kind, head_sizes={}, seed=0, formulation=env.config.formulation)
        tasks = {j: self._task(model, pretrained, point.tasks[j], env, point.row) for j in point.columns}
        return {"cka_corpus": self._corpus(model, pretrained, env), "cka_tasks": tasks}

    def _corpus(self, model: TaskModel, pretrained: TaskModel, env: MeasureEnv) -> list[float] | None:
        if env.corpus is None:
            return None
        windows = env.corpus.windows[:CORPUS_WINDOWS]
        positions = corpus_positions([len(w) for w in windows], CORPUS_TOKENS)
        batch = env.config.eval.ppl_batch_size

        def features(of: TaskModel, route: str | None) -> torch.Tensor:
            return token_features(of, windows, positions, route=route, precision=env.precision, batch_size=batch)

        key = ("corpus", tuple(map(tuple, windows)), tuple(positions))
        if key not in self._reference:
            self._reference[key] = features(pretrained, None)
        return per_layer_cka(self._reference[key], features(model, model.lm_route))

    def _task(self, model: TaskModel, pretrained: TaskModel, task: EncodedTask, env: MeasureEnv, row: int) -> list[float]:
        current = env.task_features(model, task, "test").layers
        key = ("task", task.data_hash, task.head, len(task.test))
        if key not in self._reference:
            # Row 0's model is the pretrained one: its features are the reference. Elsewhere the same batches
            # as env.task_features' (the whole split), so an untouched model gives bit-identical features.
            self._reference[key] = current if row == 0 else split_features(
                pretrained, task.test, len(task.test), route=task.head, pad_id=env.pad_id,
                batch_size=env.config.eval.batch_size, precision=env.precision,
            ).layers
        return per_layer_cka(self._reference[key], current)
