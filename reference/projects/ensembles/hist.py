"""The histogram GBM, the reference: scikit-learn's HistGradientBoosting under the scratch classes'
names and constructor arguments, and its bin mapper. Twin of scratch/projects/ensembles/hist.py.
"""
from sklearn import ensemble
from sklearn.ensemble._hist_gradient_boosting.binning import _BinMapper


class BinMapper(_BinMapper):
    def __init__(self, n_bins=256, subsample=int(2e5), random_state=None):
        super().__init__(n_bins=n_bins, subsample=subsample, random_state=random_state)

    def fit(self, X, sample_weight=None):
        """The scratch twin's signature (scikit-learn's takes an unused y second)."""
        return super().fit(X, sample_weight=sample_weight)


def _hgb_init(cls):
    def __init__(self, learning_rate=0.1, max_iter=100, max_leaf_nodes=31, max_depth=None, min_samples_leaf=20,
                 l2_regularization=0.0, max_bins=255, early_stopping="auto", validation_fraction=0.1,
                 n_iter_no_change=10, tol=1e-7, random_state=None):
        cls.__init__(self, learning_rate=learning_rate, max_iter=max_iter, max_leaf_nodes=max_leaf_nodes,
                     max_depth=max_depth, min_samples_leaf=min_samples_leaf, l2_regularization=l2_regularization,
                     max_bins=max_bins, early_stopping=early_stopping, validation_fraction=validation_fraction,
                     n_iter_no_change=n_iter_no_change, tol=tol, random_state=random_state)
    return __init__


class HistGradientBoostingClassifier(ensemble.HistGradientBoostingClassifier):
    __init__ = _hgb_init(ensemble.HistGradientBoostingClassifier)


class HistGradientBoostingRegressor(ensemble.HistGradientBoostingRegressor):
    __init__ = _hgb_init(ensemble.HistGradientBoostingRegressor)
