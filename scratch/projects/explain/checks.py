"""What every explainer of Project 19 shares, twinned or not: the input checks, the model's
outputs as a checked (rows, K) array, and the value of coalitions of features over a background.

A coalition S is a boolean mask over the M features. Its value for an instance x is the
interventional (marginal) expectation v(S) = E_b f(x_S, b_~S): the features in S are taken from
x and the others from each background row b in turn, and the model's outputs are averaged over
the background. This is what shap's ``Independent`` masker computes, and what every Shapley
estimator here reads.
"""
import numpy as np

from scratch.validation import check_features

MAX_EXACT_FEATURES = 15  # 2^15 coalitions times the background: about the most one machine enumerates
MAX_ROWS = 2**18  # rows handed to the model in one call, so memory stays bounded


def check_data(data, name="data"):
    """The background: a finite 2-d float64 array (rows, M)."""
    return np.asarray(check_features(data, name), dtype=np.float64)


def check_X(X, n_features, name="X"):
    """Instances to explain: a finite 2-d float64 array with the background's M features."""
    X = check_features(X, name)
    if X.shape[1] != n_features:
        raise ValueError(f"{name}: expected {n_features} features (the background's), got {X.shape[1]}")
    return np.asarray(X, dtype=np.float64)


def model_output(model, Z, name="model"):
    """``model(Z)`` as a float64 (rows, K) array: a 1-d output is one column. Refuses an output of
    another length, more than two dimensions, or NaN/inf (a Shapley value of NaN explains nothing)."""
    y = np.asarray(model(Z), dtype=np.float64)
    if y.ndim not in (1, 2) or y.shape[0] != Z.shape[0]:
        raise ValueError(f"{name}: expected an output of shape ({Z.shape[0]},) or ({Z.shape[0]}, K) for "
                         f"{Z.shape[0]} rows, got shape {y.shape}")
    if not np.isfinite(y).all():
        bad = np.flatnonzero(~np.isfinite(y.ravel()))[0]
        raise ValueError(f"{name}: expected finite outputs, got {y.ravel()[bad]} for input row "
                         f"{bad // (y.size // y.shape[0])}")
    return y.reshape(y.shape[0], -1)


def coalition_values(model, X, data, masks):
    """v (n, C, K): for each instance x (n rows of X) and coalition (C rows of ``masks``, (C, M)
    bool), the model's output with the coalition's features from x and the rest from each
    background row, averaged over the background (B rows of ``data``). Coalitions go to the model
    in chunks of at most MAX_ROWS rows; the instances and background rows are never looped over."""
    n, B = X.shape[0], data.shape[0]
    chunk = max(1, MAX_ROWS // (n * B))
    values = []
    for start in range(0, len(masks), chunk):
        mask = masks[start:start + chunk]  # (c, M)
        Z = np.where(mask[None, :, None, :], X[:, None, None, :], data[None, None, :, :])  # (n, c, B, M)
        y = model_output(model, Z.reshape(-1, X.shape[1]))  # (n c B, K)
        values.append(y.reshape(n, len(mask), B, -1).mean(axis=2))  # (n, c, K)
    return np.concatenate(values, axis=1)


def as_output(phi, single):
    """(n, M, K) attributions as shap returns them: (n, M) for a model with one output."""
    return phi[..., 0] if single else phi
