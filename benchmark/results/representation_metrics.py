"""Metrics of the measures of why a model forgot: probes, layer probes, CKA, language-model recovery.

Each reads the series its measure stores (``probe``, ``layer_probe``, ``cka_corpus``,
``cka_tasks``, ``lm_recovery``; some with ``accuracy`` or ``perplexity`` beside it), in
the array shapes :func:`benchmark.results.metrics.series_array` gives them. Golden
tests pin each to hand-computed values.
"""

from __future__ import annotations

import numpy as np

from benchmark.results.metrics import average_accuracy, backward_transfer, forward_transfer, register_metric

@register_metric("probe_acc", higher_is_better=True, input="probe", label="probe ACC", kind="percent")
def probe_average_accuracy(P: np.ndarray) -> float:
    """Probe ACC: mean linear-probe accuracy over all tasks after the last task, mean_j P[T][j]."""
    return average_accuracy(P)


@register_metric("probe_bwt", higher_is_better=True, input="probe", label="probe BWT", kind="percent")
def probe_backward_transfer(P: np.ndarray) -> float:
    """Probe BWT: BWT of the probe matrix, 1/(T-1) sum_{j<T} (P[T][j] - P[j][j]); negative = representation forgetting."""
    return backward_transfer(P)


@register_metric("probe_fwt", higher_is_better=True, input="probe", label="probe FWT", kind="percent")
def probe_forward_transfer(P: np.ndarray) -> float:
    """Probe FWT: 1/(T-1) sum_{j>=2} (P[j-1][j] - P[0][j]): whether earlier tasks made the features better for task j."""
    return forward_transfer(P)


@register_metric("readout_gap", higher_is_better=False, input=("probe", "accuracy"), label="readout gap", kind="percent")
def readout_gap(P: np.ndarray, R: np.ndarray) -> float:
    """Readout gap: mean_j (P[T][j] - R[T][j]), accuracy linearly present in the features but not read out."""
    return float(np.mean(P[-1, :] - R[-1, :]))


@register_metric("cka_corpus_top", higher_is_better=True, input="cka_corpus", label="CKA top (corpus)")
def cka_corpus_top(cka: np.ndarray) -> float:
    """Linear CKA of the final layer with the pretrained model on general-corpus tokens, after the last task (1 = unchanged)."""
    return float(cka[-1, -1])


@register_metric("cka_corpus_mean", higher_is_better=True, input="cka_corpus", label="CKA mean (corpus)")
def cka_corpus_mean(cka: np.ndarray) -> float:
    """Linear CKA with the pretrained model on general-corpus tokens after the last task, averaged over layers (embeddings included; undefined layers left out)."""
    return float(np.nanmean(cka[-1, :]))


@register_metric("cka_tasks_top", higher_is_better=True, input="cka_tasks", label="CKA top (tasks)")
def cka_tasks_top(cka: np.ndarray) -> float:
    """Linear CKA of the final layer with the pretrained model on the tasks' test texts after the last task, mean over tasks.

    Reads per-task cells (rows, tasks, layers); records made before the series was per task
    hold one value per row over all tasks' texts together (rows, layers).
    """
    return float(np.nanmean(cka[-1, :, -1])) if cka.ndim == 3 else float(cka[-1, -1])


@register_metric("layer_probe_top_change", higher_is_better=True, input="layer_probe", label="final-layer probe Δ", kind="percent")
def layer_probe_top_change(probes: np.ndarray) -> float:
    """mean_j (LP[T][j][final] - LP[0][j][final]): how the final layer's probe accuracy moved from row 0 to the last row."""
    return float(np.nanmean(probes[-1, :, -1] - probes[0, :, -1]))


@register_metric("layer_probe_most_changed_depth", higher_is_better=False, input="layer_probe")  # no column: a depth, not a score
def layer_probe_most_changed_depth(probes: np.ndarray) -> float:
    """l* / L, l* the layer whose probe accuracy moved most from row 0 to the last row (mean_j |LP[T][j][l] - LP[0][j][l]|; 0 embeddings, 1 final)."""
    change = np.nanmean(np.abs(probes[-1] - probes[0]), axis=0)
    return float(np.argmax(change) / (len(change) - 1))


RECOVERY_CHECKPOINTS = (0, 1, 2, 4, 8, 16, 32)  # the steps of the lm_recovery measure's curve
RECOVERED_WITHIN = 1.05


@register_metric("lm_recovery_steps", higher_is_better=False, input=("lm_recovery", "perplexity"), label="LM recovery steps", kind="count")
def lm_recovery_steps(curve: np.ndarray, ppl: np.ndarray) -> float:
    """Steps of LM training until perplexity is within 5% of row 0's (the first checkpoint there; none within the budget: empty)."""
    last = curve[-1]
    within = [step for step, value in zip(RECOVERY_CHECKPOINTS, last) if value <= RECOVERED_WITHIN * ppl[0]]
    return float(within[0]) if within else float("nan")


MIN_RECOVERY_INCREASE = 0.01  # of PPL_0: below it the fraction is a ratio of two noise-sized differences (it read 6347%)


@register_metric("lm_recovery_fraction", higher_is_better=True, input=("lm_recovery", "perplexity"), label="LM recovered", kind="percent")
def lm_recovery_fraction(curve: np.ndarray, ppl: np.ndarray) -> float:
    """Share of the perplexity increase undone at the budget, min(1, (PPL_T - PPL_T,32) / (PPL_T - PPL_0)).

    Empty unless perplexity rose by at least :data:`MIN_RECOVERY_INCREASE` of PPL_0. At most 1:
    training on the corpus also lowers the pretrained model's own perplexity (its row-0 curve),
    so going below PPL_0 is that domain effect, not more than all of the damage undone.
    """
    last = curve[-1]
    increase = last[0] - ppl[0]
    if not increase >= MIN_RECOVERY_INCREASE * ppl[0]:
        return float("nan")
    return float(min(1.0, (last[0] - last[-1]) / increase))


@register_metric("relearning_savings", higher_is_better=True, input=("task_recovery", "accuracy"), label="relearned", kind="percent")
def relearning_savings(relearned: np.ndarray, R: np.ndarray) -> float:
    """mean_j (A_j - R[T][j]) / (R[j][j] - R[T][j]) over earlier tasks that lost accuracy: the share of it 8 steps regain."""
    T = R.shape[1]
    shares = [
        (relearned[-1, j] - R[T, j]) / (R[j + 1, j] - R[T, j])
        for j in range(T - 1)
        if not np.isnan(relearned[-1, j]) and R[j + 1, j] - R[T, j] > 0
    ]
    return float(np.mean(shares)) if shares else float("nan")
