"""Built-in strategies; importing this package registers each of them.

One file per strategy. A new built-in strategy is a new module here plus one import
line below; a third-party one registers through the ``forgetbench.strategies`` entry
point group instead.
"""

from __future__ import annotations

from strategies import adapters, agem, aux_lm, distill, ewc, frozen, icl, joint, l2sp, lamol, lora, naive, olora, progressive_prompts, replay, wise_ft  # noqa: F401  (registration)
from strategies.avalanche import engine as avalanche_engine  # noqa: F401  (registers avalanche:*, imports no avalanche-lib)
