"""Permutation importance (Breiman 2001, section 10): how much a fitted model's score drops when
one feature's column is shuffled, breaking its link to the target while keeping its distribution.

Unlike MDI (``feature_importances_``, read off the training tree), it is measured on any data,
held-out rows included, and does not favour features with many distinct values. The shuffles
follow scikit-learn's: one seed drawn from ``random_state``, the same ``n_repeats`` shuffles of an
index for every feature, each applied on top of the last. Twin of
reference/projects/ensembles/inspection.py (scikit-learn's ``permutation_importance``).
"""
from types import SimpleNamespace

import numpy as np

from scratch.projects.ensembles.checks import Interval, check_random_state


def r2_score(y, y_hat):
    """1 - SS_res / SS_tot, computed as scikit-learn computes it (on columns)."""
    y, y_hat = y.reshape(-1, 1), y_hat.reshape(-1, 1)
    numerator = np.sum(1.0 * (y - y_hat) ** 2, axis=0)
    denominator = np.sum(1.0 * (y - np.mean(y, axis=0)) ** 2, axis=0)
    return float(1.0 - numerator[0] / denominator[0]) if denominator[0] != 0 else float(numerator[0] == 0)


def permutation_importance(estimator, X, y, n_repeats=5, random_state=None):
    """Importances (n_features, n_repeats): ``estimator.score(X, y)`` minus the score with the column shuffled;
    returned with their mean and standard deviation over the repeats, under scikit-learn's names."""
    if n_repeats not in Interval(int, 1, None):
        raise ValueError(f"n_repeats: expected an int >= 1, got {n_repeats!r}")
    X, y = np.array(X, dtype=np.float64), np.asarray(y)
    seed = check_random_state(random_state).randint(np.iinfo(np.int32).max + 1)
    baseline = estimator.score(X, y)
    scores = np.empty((X.shape[1], n_repeats))
    for column in range(X.shape[1]):  # one loop per feature: each is shuffled in a copy of its own
        rng = np.random.RandomState(seed)
        X_permuted, order = X.copy(), np.arange(X.shape[0])
        for repeat in range(n_repeats):
            rng.shuffle(order)
            X_permuted[:, column] = X_permuted[order, column]
            scores[column, repeat] = estimator.score(X_permuted, y)
    importances = baseline - scores
    return SimpleNamespace(importances_mean=np.mean(importances, axis=1), importances_std=np.std(importances, axis=1),
                           importances=importances)
