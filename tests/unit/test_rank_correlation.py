"""The general-ability benchmark's rank correlation: its p-value is exact, not a t approximation."""

from __future__ import annotations

import math

import numpy as np
import pytest

from benchmarks.general_ability import rank_correlation


def test_a_perfect_ranking_of_five_has_the_exact_permutation_p_value() -> None:
    x = np.array([1.0, 2.0, 3.0, 4.0, 5.0])
    rho, p = rank_correlation(x, -x)
    assert rho == pytest.approx(-1.0)
    assert p == pytest.approx(2 / math.factorial(5))  # the identity and the reversal of 120 pairings


def test_a_tie_counts_the_pairings_that_reach_the_same_rho() -> None:
    x = np.array([2.3, 1.5, 1.0, 1.0, 1.0 + 0.02])  # two strategies tie on both measures, as LoRA and frozen do
    y = np.array([-8.0, -5.5, 0.0, 0.0, -0.5])
    rho, p = rank_correlation(x, y)
    assert rho == pytest.approx(-1.0)
    assert p == pytest.approx(4 / math.factorial(5))  # swapping the tied pair keeps |rho| = 1: 2 x 2 pairings


def test_unrelated_orders_are_not_significant() -> None:
    rho, p = rank_correlation(np.array([1.0, 2.0, 3.0, 4.0, 5.0]), np.array([3.0, 1.0, 5.0, 2.0, 4.0]))
    assert abs(rho) < 0.5 and p > 0.3
