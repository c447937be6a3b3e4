"""The histogram gradient boosting's first pieces (LightGBM, Ke et al. 2017; scikit-learn's
HistGradientBoosting): quantile binning and gradient histograms. The estimator that grows trees
leaf-wise on them is not written yet.

Binning maps each feature to at most 255 integer bins (bin 255 is kept for missing values): with
few distinct values the thresholds are the midpoints between them; otherwise they are the
feature's percentiles at 1/255, 2/255, ... (NumPy's "averaged_inverted_cdf"), duplicates removed,
computed on a subsample of 200,000 rows drawn with replacement. A value x goes to bin i when
threshold[i - 1] < x <= threshold[i]. All of it follows scikit-learn's ``_BinMapper`` exactly.

A node's histogram holds, for every feature and bin, the sums of the gradients and hessians and
the count of its rows: one ``bincount`` over (feature, bin) pairs, no loop over rows or bins. A
split sends rows to two children; only the smaller child's histogram is built, the larger's is the
parent's minus it (the subtraction trick halves the work at every level).
"""
import numpy as np

from scratch.projects.ensembles.checks import Interval, check_random_state, validate_params

ALMOST_INF = 1e300  # scikit-learn's cap on thresholds (+inf is reserved for splits on missing values)


def bin_thresholds(column, max_bins):
    """The increasing thresholds (at most max_bins - 1) that cut one feature's non-missing values into bins."""
    column = np.sort(column[~np.isnan(column)])
    distinct = np.unique(column).astype(np.float64)
    if len(distinct) <= 1:
        return np.asarray([], dtype=np.float64)
    if len(distinct) <= max_bins:
        thresholds = (distinct[:-1] + distinct[1:]) * 0.5  # midpoints (the mean of each sliding pair)
    else:
        percentiles = np.linspace(0, 100, num=max_bins + 1)[1:-1]
        thresholds = np.unique(np.percentile(column, percentiles, method="averaged_inverted_cdf"))
    return np.minimum(thresholds, ALMOST_INF)


class BinMapper:
    """Feature-wise quantile binning: ``fit`` learns ``bin_thresholds_``, ``transform`` maps X to uint8 bins."""

    def __init__(self, n_bins=256, subsample=int(2e5), random_state=None):
        self.n_bins, self.subsample, self.random_state = n_bins, subsample, random_state

    def fit(self, X):
        validate_params(self, {"n_bins": [Interval(int, 3, 256)], "subsample": [Interval(int, 1, None)]})
        X = np.asarray(X, dtype=np.float64)
        rng = check_random_state(self.random_state)
        if self.subsample is not None and X.shape[0] > self.subsample:
            X = X.take(rng.choice(X.shape[0], self.subsample, replace=True), axis=0)
        self.missing_values_bin_idx_ = self.n_bins - 1
        self.bin_thresholds_ = [bin_thresholds(X[:, f], self.n_bins - 1) for f in range(X.shape[1])]
        self.n_bins_non_missing_ = np.array([len(t) + 1 for t in self.bin_thresholds_], dtype=np.uint32)
        return self

    def transform(self, X):
        """(n, F) uint8 bins: x in bin i when threshold[i - 1] < x <= threshold[i]; NaN in the missing bin."""
        X = np.asarray(X, dtype=np.float64)
        binned = np.empty(X.shape, dtype=np.uint8)
        for f, thresholds in enumerate(self.bin_thresholds_):  # a loop over features
            binned[:, f] = np.searchsorted(thresholds, X[:, f], side="left")
            binned[np.isnan(X[:, f]), f] = self.missing_values_bin_idx_
        return binned


def histograms(binned_T, rows, gradients, hessians, n_bins=256):
    """Sums of gradients and hessians and counts per (feature, bin) over ``rows``: three (F, n_bins) arrays.

    ``binned_T`` (F, N) uint8: each feature's bins side by side. One ``bincount`` over flat (feature, bin) ids.
    """
    n_features = binned_T.shape[0]
    ids = (binned_T[:, rows].astype(np.intp) + np.arange(n_features)[:, None] * n_bins).ravel()  # (F * n,)
    size = n_features * n_bins
    g = np.bincount(ids, weights=np.tile(gradients[rows], n_features), minlength=size).reshape(n_features, n_bins)
    h = np.bincount(ids, weights=np.tile(hessians[rows], n_features), minlength=size).reshape(n_features, n_bins)
    count = np.bincount(ids, minlength=size).reshape(n_features, n_bins)
    return g, h, count


def sibling_histograms(parent, child):
    """The other child's histograms: the parent's minus the built child's (the subtraction trick)."""
    return tuple(p - c for p, c in zip(parent, child))
