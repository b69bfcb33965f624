"""``ewc``: elastic weight consolidation (Kirkpatrick et al. 2017) with a task or pretrained anchor."""

from __future__ import annotations

from typing import Any, Literal

import torch

from benchmark.core.hashing import derived_seed
from benchmark.model.encoding import EncodedTask
from benchmark.core.errors import UserError
from benchmark.engine.sharding import local, summed_over_shards, whole_value
from benchmark.model.task_model import TaskModel
from strategies.base import Batch, MemoryProfile, Strategy, register_strategy, tensor_bytes
from strategies.fisher import Example, shared_fisher, trainable_backbone_parameters
from strategies.weight_penalty import WeightPenalty


@register_strategy("ewc")
class EWC(Strategy):
    """EWC: penalty lambda/2 sum_i F_i (theta_i - theta*_i)^2 around finished tasks or the pretrained LM.

    ``anchor: tasks`` estimates a diagonal Fisher F_t on each finished task's data at its
    final weights theta*_t. ``mode: separate`` penalises every task's anchor; ``online``
    (Schwarz et al. 2018) keeps one Fisher decayed by ``gamma`` and the latest anchor.
    ``anchor: pretrained`` estimates the Fisher of the language-model loss on general
    text (never the scored perplexity windows) at the pretrained weights, protecting
    what pretraining learned.

    ``fisher: empirical`` averages per-example squared gradients; ``fisher: batch``
    averages squared mini-batch gradients (Avalanche's estimate), which is smaller by a
    factor close to the batch size, so ``ewc_lambda`` means different things for each.
    The default (1e5, empirical, 32 samples) was tuned on the default benchmark: on its
    first two tasks 1e5 cut the forgetting of task 1 from 16.6 to 6.0 points, while 1e6
    and 1e7 forgot more (14.6, 26.0): with Adam a huge penalty makes the anchored weights
    oscillate instead of holding them.

    The separate-mode penalty costs the same for any number of tasks: sum_t F_t (theta -
    theta*_t)^2 = A (theta - mu)^2 + c with A = sum_t F_t, mu = sum_t F_t theta*_t / A and
    the constant c, so only A and mu are kept per parameter (c is a float). This is the
    expanded quadratic written without cancellation: A theta^2 - 2 B theta + C loses
    precision in float32 when theta is close to the anchors.
    """

    def __init__(
        self, *, ewc_lambda: float = 1e5, anchor: Literal["tasks", "pretrained"] = "tasks",
        mode: Literal["separate", "online"] = "separate", gamma: float = 1.0,
        fisher: Literal["empirical", "batch"] = "empirical", fisher_samples: int = 32, fisher_batch_size: int = 4,
    ) -> None:
        if anchor not in ("tasks", "pretrained") or mode not in ("separate", "online") or fisher not in ("empirical", "batch"):
            raise ValueError("anchor must be tasks|pretrained, mode separate|online, fisher empirical|batch")
        if ewc_lambda < 0 or not 0 < gamma <= 1 or fisher_samples < 1 or fisher_batch_size < 1:
            raise ValueError("ewc_lambda >= 0, 0 < gamma <= 1, fisher_samples >= 1 and fisher_batch_size >= 1 are required")
        self.ewc_lambda, self.anchor, self.mode, self.gamma = ewc_lambda, anchor, mode, gamma
        self.fisher, self.fisher_samples, self.fisher_batch_size = fisher, fisher_samples, fisher_batch_size
        self.importance: dict[str, torch.Tensor] = {}
        self.center: dict[str, torch.Tensor] = {}
        self.constant = 0.0
        self.distance: WeightPenalty | None = None  # built from (importance, center) at first use
        self.sharded = False

    shardable = True

    def estimate(
        self, model: TaskModel, examples: list[Example], objective: str, head: str | None, answers: list[list[int]] | None = None,
    ) -> dict[str, torch.Tensor]:
        """The diagonal Fisher of ``objective`` on ``examples`` with the configured estimator."""
        self.distance = None  # the penalty's two workspace copies must not add to the estimate's peak (memory_profile)
        return shared_fisher(
            model, examples, estimator=self.fisher, objective=objective, head=head, pad_id=self.run.pad_id,
            batch_size=self.fisher_batch_size, parallel=self.run.parallel, answers=answers,
        )

    def wrap_model(self, model: TaskModel) -> TaskModel:
        if self.anchor == "pretrained":
            if model.kind != "causal":
                raise UserError("ewc with anchor: pretrained needs a causal LM backbone; use anchor: tasks for encoders")
            if self.run.train.sharding != "fsdp":  # a sharded run estimates it on the sharded model (after_sharding)
                self.anchor_pretrained(model)
        return model

    def anchor_pretrained(self, model: TaskModel) -> None:
        """The Fisher of the LM loss on general text at the pretrained weights, and those weights as the anchor."""
        windows = self.general_windows()
        fisher = self.estimate(model, [(w, 0) for w in windows], "lm", None)
        self.consolidate(fisher, trainable_backbone_parameters(model))

    def general_windows(self) -> list[list[int]]:
        """Token windows of general text that is not scored for perplexity."""
        tokenizer, context = self.run.backbone.tokenizer, 128
        prefix = tokenizer.bos_token_id if tokenizer.bos_token_id is not None else tokenizer.eos_token_id
        windows = []
        for text in self.run.general_texts:
            ids = tokenizer(text[: context * 16], add_special_tokens=False)["input_ids"][:context]
            if len(ids) >= 2:
                windows.append([prefix, *ids])
            if len(windows) == self.fisher_samples:
                return windows
        if not windows:
            raise UserError("ewc with anchor: pretrained needs general text; the scenario has no perplexity corpus beyond the scored windows")
        return windows

    def after_task(self, model: TaskModel, task: EncodedTask) -> None:
        if self.anchor != "tasks" or task.index == len(self.run.tasks) - 1:
            return  # after the last task nothing is trained any more: its Fisher would go unused
        generator = torch.Generator().manual_seed(derived_seed(self.run.seed, "ewc fisher samples", task.index))
        picked = torch.randperm(len(task.train), generator=generator)[: self.fisher_samples].tolist()
        plain = [(task.train.input_ids[i], task.train.labels[i]) for i in picked]
        if task.answers is None:
            fisher = self.estimate(model, plain, "classification", task.head)
        elif model.kind == "seq2seq":  # text formulation: the Fisher of the answer tokens' loss
            fisher = self.estimate(model, plain, "answer", task.head, answers=task.answers)
        else:
            fisher = self.estimate(model, [(ids + task.answers[y], len(ids)) for ids, y in plain], "answer", task.head)
        self.consolidate(fisher, trainable_backbone_parameters(model))

    @torch.no_grad()
    def consolidate(self, fisher: dict[str, torch.Tensor], params: dict[str, torch.nn.Parameter]) -> None:
        """Folds a new Fisher and anchor (the current weights) into the kept (A, mu, c)."""
        self.distance = None
        for name, new in fisher.items():
            theta = params[name].detach()
            if name not in self.importance or self.mode == "online":
                previous = self.importance.get(name)
                self.importance[name] = new.clone() if previous is None else self.gamma * previous + new
                self.center[name] = theta.clone()
                continue
            a_old, mu_old = self.importance[name], self.center[name]
            a_new = a_old + new
            mu_new = torch.where(a_new > 0, (a_old * mu_old + new * theta) / a_new.clamp_min(1e-30), theta)
            # c grows by what the merged quadratic cannot express (float64 sum, reporting only).
            self.constant += float(whole_value((a_old * (mu_old - mu_new) ** 2 + new * (theta - mu_new) ** 2).double().sum()))
            self.importance[name], self.center[name] = a_new, mu_new

    def penalty(self, model: TaskModel, batch: Batch, outputs: torch.Tensor) -> torch.Tensor | None:
        if not self.importance or self.ewc_lambda == 0:
            return None
        params = dict(model.backbone.named_parameters())  # also those gradual unfreezing holds frozen this step
        names = list(self.importance)
        if self.distance is None:
            self.distance = WeightPenalty([local(self.center[n]) for n in names], [local(self.importance[n]) for n in names])
        total = self.distance([local(params[n]) for n in names])
        return 0.5 * self.ewc_lambda * ((summed_over_shards(total) if self.sharded else total) + self.constant)

    def after_sharding(self, model: TaskModel) -> None:
        self.sharded = True
        if self.anchor == "pretrained":  # still the pretrained weights (a resumed run loads its own later)
            self.anchor_pretrained(model)

    def state_dict(self) -> dict[str, Any]:
        if self.anchor == "pretrained":
            return {}  # recomputed, identically, by wrap_model when a run resumes
        return {"importance": self.importance, "center": self.center, "constant": self.constant}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        if state:
            self.importance, self.center, self.constant = state["importance"], state["center"], state["constant"]
            self.distance = None

    def extra_memory_bytes(self) -> int:
        return tensor_bytes(self.importance) + tensor_bytes(self.center)

    def memory_profile(self, batch_size: int) -> MemoryProfile:
        # Kept: importance and centre. While estimating: per-example gradients of one chunk
        # (empirical) and the sums. Measured on SmolLM2-135M at fisher_batch_size 4 (benchmarks/
        # memory_plan.py --measured): 10.7 parameter-sized copies above naive's peak, which two per
        # example of a chunk plus three cover.
        transient = (2 * self.fisher_batch_size if self.fisher == "empirical" else 0) + 3
        return MemoryProfile(copies=2 + transient)
