"""A linear probe: how much of a task is linearly readable from a representation.

Protocol (Davari et al. 2022's linear probe, made deterministic): features are
standardised with the training split's mean and deviation; a multinomial logistic
regression (scikit-learn, L-BFGS, L2 penalty) is fitted on the training split; its
inverse regularisation C is chosen once per fit from :data:`C_GRID` on a held-out
fifth of the training split (a fixed seeded split, so the same features give the same
choice), then the probe is refitted on the whole training split with that C and scored
on the test split. scikit-learn rather than a hand-written optimiser: its L-BFGS
logistic regression is the standard, well-tested probe and is deterministic for fixed
inputs.
"""

from __future__ import annotations

import warnings

import numpy as np
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import LogisticRegression
from sklearn.preprocessing import StandardScaler

C_GRID = (0.01, 0.1, 1.0, 10.0)
HELD_OUT_FRACTION = 0.2
MAX_ITER = 500


def _fit(features: np.ndarray, labels: np.ndarray, c: float) -> LogisticRegression:
    with warnings.catch_warnings():
        # A probe that stops at MAX_ITER is still a probe; its accuracy is what is recorded.
        warnings.simplefilter("ignore", ConvergenceWarning)
        return LogisticRegression(C=c, max_iter=MAX_ITER).fit(features, labels)


def choose_c(features: np.ndarray, labels: np.ndarray, seed: int) -> float:
    """The C of :data:`C_GRID` with the best accuracy on a seeded held-out fifth of the (standardised) training features."""
    order = np.random.default_rng(seed).permutation(len(labels))
    cut = max(1, int(round(len(labels) * HELD_OUT_FRACTION)))
    held, kept = order[:cut], order[cut:]
    if len(np.unique(labels[kept])) < 2:
        return 1.0  # too few examples to compare: the library's default
    scores = [(_fit(features[kept], labels[kept], c).score(features[held], labels[held]), -c) for c in C_GRID]
    return -max(scores)[1]  # best accuracy; ties go to the strongest regularisation


def probe_accuracy(train_x: np.ndarray, train_y: np.ndarray, test_x: np.ndarray, test_y: np.ndarray, *, seed: int) -> float:
    """Test accuracy of a linear probe fitted on (``train_x``, ``train_y``) by the protocol above.

    A training split with one class only gives the accuracy of predicting that class.
    """
    if len(np.unique(train_y)) < 2:
        return float(np.mean(test_y == train_y[0]))
    scaler = StandardScaler().fit(train_x)
    train, test = scaler.transform(train_x), scaler.transform(test_x)
    c = choose_c(train, train_y, seed)
    return float(_fit(train, train_y, c).score(test, test_y))
