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
import numpy as np
from scipy import stats

from scratch.projects.explain.lime_base import SELECTIONS, Explanation, explain_with_data
from scratch.validation import check_features

PERCENTILES = {"quartile": [25, 50, 75], "decile": list(range(10, 100, 10))}


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
        explanation = explain_with_data(Explanation(self.mode, self.bin_names(self.discretize(data_row))), Z, y,
                                        weights, labels, num_features, self.feature_selection)
        if self.mode == "regression":  # lime's convention: label 1 is the output, label 0 its negation
            explanation.intercept[1] = explanation.intercept[0]
            explanation.local_exp[1] = explanation.local_exp[0]
            explanation.local_exp[0] = [(j, -w) for j, w in explanation.local_exp[1]]
        return explanation
