"""``cka``: how far each layer's representation has drifted from the pretrained model's (linear CKA, per layer).

After row 0 and every task, linear CKA (Kornblith et al. 2019) between the pretrained
model and the current one, layer by layer (embeddings first, final layer last), on two
fixed input sets that are the same at every row:

- ``cka_corpus``: the hidden states at :data:`CORPUS_TOKENS` seeded token positions of
  the first :data:`CORPUS_WINDOWS` general-corpus windows, on the language-model path (the modules the perplexity
  is measured with; with heads: none, so adapters and LoRA leave it at 1).
- ``cka_tasks``: the pooled features of the first :data:`TASK_EXAMPLES` test examples of
  every task of the run (seen or not), each through its task's own path.

CKA is computed once over the whole set (n inputs), not averaged over mini-batches,
which would bias it. The pretrained model's features are computed once per input set
and kept for the suite. Each series' value at a row is a list over layers.
"""

from __future__ import annotations

from typing import Any

import torch

from benchmark.core.hashing import derived_seed
from benchmark.engine.measures.base import Measure, MeasureEnv, MeasurePoint, register_measure
from benchmark.engine.representations import linear_cka, split_features, token_features
from benchmark.model.encoding import EncodedTask
from benchmark.model.task_model import TaskModel

CORPUS_TOKENS = 512
CORPUS_WINDOWS = 4  # 4 x 256 tokens by default: enough positions for n = 512, a small share of a run's passes
TASK_EXAMPLES = 32


def corpus_positions(lengths: list[int], n: int) -> list[tuple[int, int]]:
    """``n`` seeded (window, position) pairs over windows of ``lengths`` (all of them if there are fewer), position 0 left out."""
    pairs = [(w, p) for w, length in enumerate(lengths) for p in range(1, length)]
    if len(pairs) <= n:
        return pairs
    chosen = torch.randperm(len(pairs), generator=torch.Generator().manual_seed(derived_seed("cka corpus positions")))[:n]
    return [pairs[i] for i in sorted(chosen.tolist())]


def per_layer_cka(reference: torch.Tensor, current: torch.Tensor) -> list[float]:
    """Linear CKA of each layer, for features of shape (layers + 1, n, hidden)."""
    return [linear_cka(reference[k], current[k]) for k in range(reference.shape[0])]


@register_measure("cka")
class Cka(Measure):
    """Per-layer linear CKA against the pretrained model, on general-corpus tokens and on every task's test texts."""

    series = {"cka_corpus": "per_row", "cka_tasks": "per_row"}
    reads_features = True
    model_kinds = ("causal", "encoder")

    def __init__(self) -> None:
        self._reference: dict[Any, torch.Tensor] = {}  # the pretrained model's features, by input set

    def measure(self, model: TaskModel, point: MeasurePoint, env: MeasureEnv) -> dict[str, Any]:
        pretrained = TaskModel(env.backbone.model, kind=env.backbone.kind, head_sizes={}, seed=0, formulation=env.config.formulation)
        return {"cka_corpus": self._corpus(model, pretrained, env), "cka_tasks": self._tasks(model, pretrained, point.tasks, env)}

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

    def _tasks(self, model: TaskModel, pretrained: TaskModel, tasks: list[EncodedTask], env: MeasureEnv) -> list[float]:
        current = [env.task_features(model, task, "test", limit=TASK_EXAMPLES).layers for task in tasks]
        key = ("tasks", tuple((task.data_hash, task.head, tuple(map(tuple, task.test.input_ids[:TASK_EXAMPLES]))) for task in tasks))
        if key not in self._reference:
            # The same batches as env.task_features', so an untouched model gives bit-identical features.
            self._reference[key] = torch.cat([
                split_features(pretrained, task.test, min(TASK_EXAMPLES, len(task.test)), route=task.head, pad_id=env.pad_id,
                               batch_size=env.config.eval.batch_size, precision=env.precision).layers
                for task in tasks
            ], dim=1)
        return per_layer_cka(self._reference[key], torch.cat(current, dim=1))
