"""``naive``: plain sequential fine-tuning, the baseline every strategy is compared with."""

from __future__ import annotations

from strategies.base import Strategy, register_strategy


@register_strategy("naive")
class Naive(Strategy):
    """Sequential full fine-tuning of the backbone and each task's head; no protection against forgetting."""

    shardable = True
