"""``joint``: multitask training on all tasks at once, the upper-bound reference row."""

from __future__ import annotations

from strategies.base import Strategy, register_strategy


@register_strategy("joint")
class Joint(Strategy):
    """Multitask training on the union of all tasks (upper bound); evaluated once, after training on all of them.

    The runner gives it the same data budget as a sequential run (every task's
    examples, the same epochs) with batches of all tasks shuffled together. Its matrix
    has only row 0 and the final row, so ACC is defined and BWT/forgetting are not.
    """

    joint = True
    shardable = True
    reference = True
