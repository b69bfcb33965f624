"""``frozen``: feature extraction, the reference row whose backbone never changes."""

from __future__ import annotations

from benchmark.model.task_model import TaskModel
from strategies.base import Strategy, register_strategy


@register_strategy("frozen")
class Frozen(Strategy):
    """Frozen backbone, only the task heads train: no forgetting of the backbone by construction.

    In the text formulation there are no heads, so nothing trains: every row is the
    pretrained model's zero-shot accuracy (R[t] equals R[0]).
    """

    reference = True
    trains_backbone = False
    shardable = True

    def wrap_model(self, model: TaskModel) -> TaskModel:
        for parameter in model.backbone.parameters():
            parameter.requires_grad_(False)
        return model
