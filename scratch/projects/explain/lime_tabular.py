"""LIME for tables (Ribeiro, Singh & Guestrin 2016): explain one prediction by a weighted ridge
regression fitted on perturbed copies of the row, with the features recoded as "does this copy's
feature fall in the row's bin?".

1. Each continuous feature is cut at its training quartiles (or deciles); a categorical feature
   keeps its integer values. Per feature, a bin (or category) is drawn for every copy with the
   training frequencies, and a continuous bin becomes a value again by a normal truncated to the
   bin, with the bin's training mean and standard deviation.
2. The interpretable copy z is binary: 1 where the copy's bin is the row's. Its distance to the row
   d = ||z - 1|| is weighted by the exponential kernel sqrt(exp(-d^2 / w^2)), w = 0.75 sqrt(F).
3. Features are chosen (``forward_selection``: greedy by weighted R^2 for a few features,
   ``highest_weights``: largest ridge coefficients; ``auto`` picks by count), then a ridge
   (alpha 1) on them gives the explanation: coefficients, intercept, weighted R^2 and the local
   model's prediction at the row.
Draws come from one ``numpy.random.RandomState(random_state)`` in lime's order (each feature's
bins, then each feature's truncated normals), so an explanation equals lime's for the same seed.
Twin of reference/projects/explain/lime_tabular.py (lime's ``LimeTabularExplainer``).
"""
from dataclasses import dataclass, field

import numpy as np
from scipy import stats

from scratch.validation import check_features

PERCENTILES = {"quartile": [25, 50, 75], "decile": list(range(10, 100, 10))}
SELECTIONS = ("auto", "forward_selection", "highest_weights", "none")


def weighted_ridge(Z, y, weights, alpha):
    """(coef, intercept, weighted R^2) of a ridge fitted with sample weights, the intercept free."""
    total = weights.sum()
    z_mean, y_mean = weights @ Z / total, weights @ y / total
    root = np.sqrt(weights)[:, None]
    Zc, yc = (Z - z_mean) * root, (y - y_mean) * root[:, 0]  # centred and weighted
    gram = Zc.T @ Zc + alpha * np.eye(Z.shape[1])
    coef = np.linalg.solve(gram, Zc.T @ yc) if alpha > 0 else np.linalg.lstsq(Zc, yc, rcond=None)[0]
    intercept = y_mean - z_mean @ coef
    residual = y - (Z @ coef + intercept)
    score = 1.0 - weights @ residual**2 / (weights @ (y - y_mean) ** 2)
    return coef, intercept, score


@dataclass
class Explanation:
    """lime's fields: per label the local model's (feature, weight) pairs by |weight| and its intercept;
    the weighted R^2 (``score``) and the local model's prediction at the row (``local_pred``)."""
    mode: str
    domain_names: list
    local_exp: dict = field(default_factory=dict)
    intercept: dict = field(default_factory=dict)
    score: float = None
    local_pred: np.ndarray = None

    def as_list(self, label=1):
        return [(self.domain_names[j], w) for j, w in self.local_exp[label]]


class LimeTabularExplainer:
    def __init__(self, training_data, mode="classification", feature_names=None, categorical_features=None,
                 kernel_width=None, feature_selection="auto", discretizer="quartile", random_state=None):
        data = np.asarray(check_features(training_data, "training_data"), dtype=np.float64)
        if mode not in ("classification", "regression"):
            raise ValueError(f"mode: expected 'classification' or 'regression', got {mode!r}")
        if feature_selection not in SELECTIONS:
            raise ValueError(f"feature_selection: expected one of {SELECTIONS}, got {feature_selection!r}")
        if discretizer not in PERCENTILES:
            raise ValueError(f"discretizer: expected one of {tuple(PERCENTILES)}, got {discretizer!r}")
        self.mode, self.feature_selection = mode, feature_selection
        self.feature_names = list(feature_names) if feature_names is not None else [str(j) for j in range(data.shape[1])]
        self.categorical_features = list(categorical_features or [])
        for j in self.categorical_features:
            column = data[:, j]
            if not np.array_equal(column, np.round(column)):
                bad = column[np.flatnonzero(column != np.round(column))[0]]
                raise ValueError(f"categorical_features: expected integer category codes in column {j}, got {bad} "
                                 f"(a float: encode the categories as 0, 1, 2, ...)")
        self.random_state = np.random.RandomState(random_state)
        self.kernel_width = float(np.sqrt(data.shape[1]) * 0.75 if kernel_width is None else kernel_width)
        self.continuous = [j for j in range(data.shape[1]) if j not in self.categorical_features]
        self.cuts = {j: np.unique(np.percentile(data[:, j], PERCENTILES[discretizer])) for j in self.continuous}
        codes = self.discretize(data)
        self.bin_stats = {}  # feature -> (mins, maxs, means, stds) per bin
        for j, cuts in self.cuts.items():
            members = [data[codes[:, j] == b, j] for b in range(len(cuts) + 1)]  # per bin (at most 10)
            means = np.array([np.mean(m) if len(m) else 0.0 for m in members])
            spread = np.array([np.std(m) if len(m) else 0.0 for m in members])
            self.bin_stats[j] = (np.r_[data[:, j].min(), cuts], np.r_[cuts, data[:, j].max()], means,
                                 spread + 1e-11)
        self.values, self.frequencies = {}, {}  # per feature: its codes and their training frequencies
        for j in range(data.shape[1]):
            self.values[j], counts = np.unique(codes[:, j], return_counts=True)
            self.frequencies[j] = counts / counts.sum()

    def discretize(self, X):
        """Each continuous feature as its bin index (0 .. number of cuts); categories kept."""
        codes = np.array(X, dtype=np.float64, copy=True)
        for j, cuts in self.cuts.items():
            codes[..., j] = np.searchsorted(cuts, codes[..., j])
        return codes

    def bin_names(self, row_codes):
        names = list(self.feature_names)
        for j, cuts in self.cuts.items():
            b, name = int(row_codes[j]), self.feature_names[j]
            names[j] = (f"{name} <= {cuts[0]:.2f}" if b == 0 else f"{name} > {cuts[-1]:.2f}" if b == len(cuts)
                        else f"{cuts[b - 1]:.2f} < {name} <= {cuts[b]:.2f}")
        for j in self.categorical_features:
            names[j] = f"{self.feature_names[j]}={int(row_codes[j])}"
        return names

    def sample(self, data_row, num_samples):
        """(Z binary (S, F), copies (S, F)): row 0 is the row itself."""
        row_codes = self.discretize(data_row)
        F = len(data_row)
        drawn = np.empty((num_samples, F))
        for j in range(F):  # lime's order: a feature's bins for every copy, feature after feature
            drawn[:, j] = self.random_state.choice(self.values[j], size=num_samples, replace=True, p=self.frequencies[j])
        Z = (drawn == row_codes).astype(np.float64)
        Z[0] = 1.0
        copies = drawn.copy()
        for j in self.continuous:  # each bin back to a value: a normal truncated to the bin
            mins, maxs, means, stds = (s[drawn[1:, j].astype(int)] for s in self.bin_stats[j])
            low, high = (mins - means) / stds, (maxs - means) / stds
            values = low.copy()  # lime keeps the standardised bound where a bin has no width
            wide = low != high
            values[wide] = stats.truncnorm.rvs(low[wide], high[wide], loc=means[wide], scale=stds[wide],
                                               random_state=self.random_state)
            copies[1:, j] = values
        copies[0] = data_row
        return Z, copies

    def select(self, Z, y, weights, num_features):
        method = self.feature_selection
        if method == "auto":
            method = "forward_selection" if num_features <= 6 else "highest_weights"
        if method == "none":
            return np.arange(Z.shape[1])
        if method == "highest_weights":
            coef = weighted_ridge(Z, y, weights, 0.01)[0] * Z[0]
            return np.argsort(-np.abs(coef), kind="stable")[:num_features]
        chosen = []
        for _ in range(min(num_features, Z.shape[1])):  # greedy: the feature that adds the most weighted R^2
            candidates = [j for j in range(Z.shape[1]) if j not in chosen]
            scores = [weighted_ridge(Z[:, chosen + [j]], y, weights, 0.0)[2] for j in candidates]
            chosen.append(candidates[int(np.argmax(scores))])
        return np.array(chosen)

    def explain_instance(self, data_row, predict_fn, labels=(1,), num_features=10, num_samples=5000):
        data_row = np.asarray(data_row, dtype=np.float64)
        if data_row.shape != (len(self.feature_names),):
            raise ValueError(f"data_row: expected shape ({len(self.feature_names)},), got {data_row.shape}")
        Z, copies = self.sample(data_row, num_samples)
        distances = np.sqrt(((Z - Z[0]) ** 2).sum(axis=1))
        weights = np.sqrt(np.exp(-distances**2 / self.kernel_width**2))
        y = np.asarray(predict_fn(copies), dtype=np.float64)
        if not np.isfinite(y).all():
            raise ValueError(f"predict_fn: expected finite outputs, got {y[~np.isfinite(y)][0]}")
        if self.mode == "classification" and y.ndim != 2:
            raise ValueError(f"predict_fn: expected class probabilities (rows, classes), got shape {y.shape}")
        if self.mode == "regression":
            y, labels = y.reshape(len(copies), -1)[:, :1], [0]
        explanation = Explanation(self.mode, self.bin_names(self.discretize(data_row)))
        for label in labels:
            used = self.select(Z, y[:, label], weights, num_features)
            coef, intercept, score = weighted_ridge(Z[:, used], y[:, label], weights, 1.0)
            order = np.argsort(-np.abs(coef), kind="stable")
            explanation.local_exp[label] = [(int(used[k]), float(coef[k])) for k in order]
            explanation.intercept[label] = float(intercept)
            explanation.score, explanation.local_pred = float(score), np.array([Z[0, used] @ coef + intercept])
        if self.mode == "regression":  # lime's convention: label 1 is the output, label 0 its negation
            explanation.intercept[1] = explanation.intercept[0]
            explanation.local_exp[1] = explanation.local_exp[0]
            explanation.local_exp[0] = [(j, -w) for j, w in explanation.local_exp[1]]
        return explanation
