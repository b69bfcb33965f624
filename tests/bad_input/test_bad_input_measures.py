"""Measures without guard rails: settings under which a measure cannot give a meaningful value are refused before any work.

Each used to give a number that meant nothing (CKA of 1 on two examples, an unbounded
recovery fraction), a value of None without a reason, or a traceback after row 0.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest

from benchmark.results.representation_metrics import lm_recovery_fraction
from tests.bad_input.test_bad_input import refused_in_one_sentence

Case = tuple[Callable[[Path, Path], list[str]], str]
CASES: dict[str, Case] = {
    "probe on 4 test examples": (lambda d, s: ["--measures", "accuracy,probe", "--test-size", "4"], "measure 'probe' needs at least 10 test examples per task (its probes are cross-fitted over 5 folds"),
    "layer probe on 2 test examples": (lambda d, s: ["--measures", "accuracy,layer_probe", "--test-size", "2"], "measure 'layer_probe' needs at least 10 test examples per task"),
    "probe on 1 test example": (lambda d, s: ["--measures", "accuracy,perplexity,probe", "--test-size", "1"], "task 'task1' has 1; raise --test-size to 10 or more"),
    "cka on 2 test examples": (lambda d, s: ["--measures", "accuracy,cka", "--test-size", "2"], "measure 'cka' needs at least 10 test examples per task (linear CKA over fewer inputs is 1 or noise"),
    "lm recovery without perplexity tokens": (lambda d, s: ["--measures", "accuracy,perplexity,lm_recovery", "--set", "eval.ppl_tokens=0"],
                                              "measure 'lm_recovery' measures general-corpus perplexity, but this suite has none"),
    "lm recovery with the whole corpus in the perplexity windows": (lambda d, s: ["--measures", "accuracy,perplexity,lm_recovery", "--set", "eval.ppl_tokens=1000000"],
                                                                     "uses up the whole corpus; lower --ppl-tokens"),
    "perplexity window of one token": (lambda d, s: ["--set", "eval.ppl_context=1"], "field 'eval.ppl_context' is 1, but a perplexity window needs at least 2 tokens"),
    "one perplexity token": (lambda d, s: ["--set", "eval.ppl_tokens=1"], "field 'eval.ppl_tokens' is 1, but a perplexity window needs at least 2 tokens"),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_a_measure_that_cannot_mean_anything_is_refused_before_any_work(case: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    refused_in_one_sentence(CASES[case], tmp_path, capsys)


def curve(start: float, end: float) -> np.ndarray:
    """The last row's recovery curve from ``start`` to ``end`` (row 0's row left empty)."""
    return np.array([[np.nan] * 3, [start, (start + end) / 2, end]])


@pytest.mark.parametrize(("ppl_t", "recovered_to", "expected"), [
    (20.0, 15.0, 0.5),     # half of the 10-point increase undone
    (20.0, 10.0, 1.0),     # back to the pretrained perplexity
    (20.0, 8.0, 1.0),      # below it: the corpus's domain, not more than all of the damage; capped
    (10.05, 9.0, None),    # a 0.5% increase: the ratio of two noise-sized differences (it read 2100%) is left empty
    (9.0, 8.0, None),      # no increase
])
def test_the_lm_recovery_fraction_is_bounded_and_empty_on_a_negligible_increase(ppl_t: float, recovered_to: float, expected: float | None) -> None:
    value = lm_recovery_fraction(curve(ppl_t, recovered_to), np.array([10.0, ppl_t]))
    assert (np.isnan(value) if expected is None else value == pytest.approx(expected))
