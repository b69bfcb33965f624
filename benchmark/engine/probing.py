"""A linear probe: how much of a task is linearly readable from a representation.

Protocol (Davari et al. 2022's linear probe, made deterministic): features are
standardised with the fitting examples' mean and deviation; a multinomial logistic
regression (scikit-learn, L-BFGS, L2 penalty) is fitted; its inverse regularisation C
is chosen from :data:`C_GRID` on a held-out fifth of the fitting examples (a fixed
seeded split, so the same features give the same choice), then the probe is refitted
on all of them with that C and scored on examples it has not seen.

:func:`cross_fitted_predictions` is what the ``probe`` measures use: k-fold over the
test split's features, which the accuracy pass has already computed, so a probe costs
no forward pass (fitting on the training split would cost one more pass over training
examples for every evaluated task after every task). C is chosen once per probe, on the
fitting part of the first fold. scikit-learn rather than a hand-written optimiser: its L-BFGS logistic
regression is the standard, well-tested probe and deterministic for fixed inputs.
"""

from __future__ import annotations

import warnings

import numpy as np
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import KFold, StratifiedKFold
from sklearn.preprocessing import StandardScaler

C_GRID = (0.01, 0.1, 1.0, 10.0)
HELD_OUT_FRACTION = 0.2
FOLDS = 5
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


def probe_predictions(train_x: np.ndarray, train_y: np.ndarray, test_x: np.ndarray, *, seed: int, c: float | None = None) -> np.ndarray:
    """The class a linear probe fitted on (``train_x``, ``train_y``) predicts for each test example (C chosen here if None).

    Fitting examples of one class only give the predictions of that class.
    """
    if len(np.unique(train_y)) < 2:
        return np.full(len(test_x), train_y[0])
    scaler = StandardScaler().fit(train_x)
    train, test = scaler.transform(train_x), scaler.transform(test_x)
    chosen = choose_c(train, train_y, seed) if c is None else c
    return _fit(train, train_y, chosen).predict(test)


def probe_correct(train_x: np.ndarray, train_y: np.ndarray, test_x: np.ndarray, test_y: np.ndarray, *, seed: int, c: float | None = None) -> int:
    """How many of the test examples a linear probe fitted on (``train_x``, ``train_y``) gets right (C chosen here if None)."""
    return int(np.sum(probe_predictions(train_x, train_y, test_x, seed=seed, c=c) == test_y))


def probe_accuracy(train_x: np.ndarray, train_y: np.ndarray, test_x: np.ndarray, test_y: np.ndarray, *, seed: int) -> float:
    """Test accuracy of a linear probe fitted on (``train_x``, ``train_y``) by the protocol above."""
    return probe_correct(train_x, train_y, test_x, test_y, seed=seed) / len(test_y)


def folds_of(labels: np.ndarray, *, seed: int, folds: int = FOLDS) -> list[tuple[np.ndarray, np.ndarray]]:
    """(fit, held-out) index pairs of ``folds`` seeded folds, stratified by class where every class has ``folds`` examples."""
    _, counts = np.unique(labels, return_counts=True)
    splitter = StratifiedKFold(folds, shuffle=True, random_state=seed) if counts.min() >= folds else KFold(folds, shuffle=True, random_state=seed)
    return list(splitter.split(np.zeros(len(labels)), labels))


def first_fold_c(features: np.ndarray, labels: np.ndarray, *, seed: int, folds: int = FOLDS) -> float:
    """The C the cross-fitted probe uses: chosen on the fitting part of the first fold only."""
    fit, _ = folds_of(labels, seed=seed, folds=folds)[0]
    if len(np.unique(labels[fit])) < 2:
        return 1.0
    return choose_c(StandardScaler().fit_transform(features[fit]), labels[fit], seed)


def cross_fitted_predictions(features: np.ndarray, labels: np.ndarray, *, seed: int, folds: int = FOLDS, c: float | None = None) -> np.ndarray:
    """Each example's class as predicted by the probe of the one of ``folds`` seeded folds that held it out.

    C is :func:`first_fold_c`'s unless given (the layer probes reuse the final layer's).
    """
    chosen = first_fold_c(features, labels, seed=seed, folds=folds) if c is None else c
    predicted = np.empty(len(labels), dtype=np.int64)
    for fit, held in folds_of(labels, seed=seed, folds=folds):
        predicted[held] = probe_predictions(features[fit], labels[fit], features[held], seed=seed, c=chosen)
    return predicted
