"""Rules a suite's settings must meet beyond their types, on plain values (:func:`benchmark.core.config.validate` applies them)."""

from __future__ import annotations

from typing import Any

from benchmark.core.errors import UserError
from benchmark.core.printable import has_control_characters, printable
from benchmark.core.strategy_spec import strategy_parts


def check_perplexity_budget(ppl_tokens: int, ppl_context: int, source: str) -> None:
    """Token budgets a perplexity can be measured with: none (0), or windows of at least 2 tokens."""
    if ppl_tokens < 0:
        raise UserError(f"{source}: field 'eval.ppl_tokens' must be 0 (no perplexity) or more, got {ppl_tokens}")
    # A perplexity window predicts each token from the ones before it: one token alone predicts nothing.
    if ppl_context < 2:
        raise UserError(f"{source}: field 'eval.ppl_context' is {ppl_context}, but a perplexity window needs at least 2 tokens; use e.g. 64 or more")
    if ppl_tokens == 1:
        raise UserError(f"{source}: field 'eval.ppl_tokens' is 1, but a perplexity window needs at least 2 tokens; use 0 (no perplexity) or e.g. 1024")


def check_names(names: list[str], source: str) -> None:
    """Model and strategy names that reach terminals and result files hold no control character."""
    for name in names:
        if has_control_characters(name):
            raise UserError(f"{source}: the name '{printable(name)}' holds a control character, which would reach terminals and result files; rename it")


def check_applies(lm_eval_changed: bool, measures: list[str], source: str) -> None:
    """A setting that cannot apply is refused, not recorded as if it had (the formulation checks its own settings)."""
    if lm_eval_changed and "lm_eval" not in measures:
        raise UserError(f"{source}: the 'lm_eval' settings apply to the lm_eval measure, which is not in --measures; add it or leave the settings out")


def check_launch(jobs: int | str, launcher: str, gpus_per_run: float, ray_address: str | None, source: str) -> None:
    """Launcher settings that belong together."""
    if jobs != 1 and launcher != "local":
        raise UserError(f"{source}: launch.jobs is {jobs} but the launcher is {launcher!r}; jobs apply to --launcher local")
    if gpus_per_run < 0:
        raise UserError(f"{source}: field 'launch.gpus_per_run' must be 0 or more, got {gpus_per_run}")
    if ray_address is not None and launcher != "ray":
        raise UserError(f"{source}: launch.ray_address is set but the launcher is {launcher!r}; add --launcher ray")


def check_strategy_args(strategy_args: dict[str, dict[str, Any]], strategies: list[str], source: str) -> None:
    """Arguments only for strategies that run (a misspelt name would otherwise be ignored)."""
    unused = set(strategy_args) - {part for s in strategies for part in strategy_parts(s)}
    if unused:
        raise UserError(
            f"{source}: strategy_args names {sorted(unused)} which are not in strategies {strategies}; "
            "add them to strategies or remove their arguments"
        )


def check_weights(dtype: str, precision: str, source: str) -> None:
    """Weight type and autocast that work together: fp16 loss scaling needs float32 weights to unscale gradients into."""
    if precision == "fp16" and dtype != "fp32":
        raise UserError(
            f"{source}: --mixed-precision fp16 scales the loss, which needs float32 weights, but --dtype is {dtype}; "
            "use --dtype fp32 with it, or --dtype bf16 without it"
        )
