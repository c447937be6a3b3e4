"""Decision trees (CART, Breiman et al. 1984): DecisionTreeClassifier (gini, entropy, log_loss)
and DecisionTreeRegressor (squared_error), with scikit-learn's arguments and attributes.

A tree is grown by ``cart.Builder``: at each node the splitter scores every threshold of the
visited features at once (sorted columns, cumulative class weights or weighted targets) and keeps
the split of largest impurity decrease; growth stops at ``max_depth``, ``min_samples_*``,
``min_weight_fraction_leaf``, ``min_impurity_decrease`` or, best-first, ``max_leaf_nodes``; then
``ccp_alpha`` prunes the weakest links. Each draw of randomness follows scikit-learn's, so a tree
equals scikit-learn's node for node. Twin of reference/projects/ensembles/tree.py (scikit-learn's
own trees under these names).
"""
import math
import numbers

import numpy as np

from scratch.projects.ensembles import cart
from scratch.projects.ensembles.checks import (
    Interval,
    Options,
    check_classes,
    check_fitted,
    check_random_state,
    check_sample_weight,
    check_X,
    check_y,
    resolve_max_features,
    validate_params,
)
from scratch.projects.ensembles.inspection import r2_score

_TREE_PARAMS = {
    "splitter": [Options("best", "random")],
    "max_depth": [Interval(int, 1, None), Options(None)],
    "min_samples_split": [Interval(int, 2, None), Interval(float, 0.0, 1.0, closed="right")],
    "min_samples_leaf": [Interval(int, 1, None), Interval(float, 0.0, 1.0, closed="neither")],
    "min_weight_fraction_leaf": [Interval(float, 0.0, 0.5), Interval(int, 0, 0)],
    "max_features": [Interval(int, 1, None), Interval(float, 0.0, 1.0, closed="right"), Options("sqrt", "log2", None)],
    "random_state": [Interval(int, 0, 2**32 - 1), np.random.RandomState, Options(None)],
    "max_leaf_nodes": [Interval(int, 2, None), Options(None)],
    "min_impurity_decrease": [Interval(float, 0.0, None), Interval(int, 0, None)],
    "ccp_alpha": [Interval(float, 0.0, None), Interval(int, 0, None)],
}


class Estimator:
    """scikit-learn's parameter protocol: ``get_params`` / ``set_params`` over ``__init__``'s arguments."""

    def get_params(self, deep=True):
        return {name: getattr(self, name) for name in self._param_names()}

    def set_params(self, **params):
        for name, value in params.items():
            if name not in self._param_names():
                raise ValueError(f"{name}: expected one of {sorted(self._param_names())}, got an unknown parameter "
                                 f"(Invalid parameter {name!r} for estimator {type(self).__name__}.)")
            setattr(self, name, value)
        return self

    @classmethod
    def _param_names(cls):
        return [name for name in cls.__init__.__code__.co_varnames[1:cls.__init__.__code__.co_argcount]]

    def __repr__(self):
        return f"{type(self).__name__}({', '.join(f'{k}={v!r}' for k, v in self.get_params().items())})"


class BaseDecisionTree(Estimator):
    def __init__(self, criterion, splitter="best", max_depth=None, min_samples_split=2, min_samples_leaf=1,
                 min_weight_fraction_leaf=0.0, max_features=None, random_state=None, max_leaf_nodes=None,
                 min_impurity_decrease=0.0, ccp_alpha=0.0):
        self.criterion, self.splitter, self.max_depth = criterion, splitter, max_depth
        self.min_samples_split, self.min_samples_leaf = min_samples_split, min_samples_leaf
        self.min_weight_fraction_leaf, self.max_features, self.random_state = (min_weight_fraction_leaf, max_features,
                                                                               random_state)
        self.max_leaf_nodes, self.min_impurity_decrease, self.ccp_alpha = (max_leaf_nodes, min_impurity_decrease,
                                                                           ccp_alpha)

    def _fit(self, X, labels, n_values, sample_weight, stats, sq=None):
        """Grow ``tree_`` on float32 X; ``stats`` (K, n) and ``sq`` are what the criterion sums."""
        n_samples, self.n_features_in_ = X.shape
        random_state = check_random_state(self.random_state)
        weights = check_sample_weight(sample_weight, n_samples)
        max_depth = np.iinfo(np.int32).max if self.max_depth is None else self.max_depth
        min_samples_leaf = self.min_samples_leaf
        if not isinstance(min_samples_leaf, numbers.Integral):
            min_samples_leaf = math.ceil(min_samples_leaf * n_samples)
        min_samples_split = self.min_samples_split
        if not isinstance(min_samples_split, numbers.Integral):
            min_samples_split = max(2, math.ceil(min_samples_split * n_samples))
        min_samples_split = max(min_samples_split, 2 * min_samples_leaf)
        self.max_features_ = resolve_max_features(self.max_features, self.n_features_in_)
        total = n_samples if sample_weight is None else np.sum(weights)
        min_weight_leaf = self.min_weight_fraction_leaf * total
        criterion = cart.Criterion(self.criterion, stats(weights), None if sq is None else sq(weights), labels)
        seed = random_state.randint(0, cart.RAND_R_MAX)
        splitter = cart.Splitter(X, criterion, self.max_features_, min_samples_leaf, min_weight_leaf, seed,
                                 self.splitter)
        builder = cart.Builder(splitter, min_samples_split, min_samples_leaf, min_weight_leaf, max_depth,
                               self.max_leaf_nodes, self.min_impurity_decrease)
        tree = builder.build(cart.Tree(self.n_features_in_, n_values), weights, lambda sums, w: sums / w)
        self.tree_ = cart.prune(tree, self.ccp_alpha) if self.ccp_alpha > 0.0 else tree
        return self

    def _leaf_values(self, X):
        check_fitted(self, "tree_")
        return self.tree_.predict(check_X(X, self, n_features=self.n_features_in_))[:, 0, :]  # (n, K)

    def apply(self, X):
        """The leaf id of each row of X."""
        check_fitted(self, "tree_")
        return self.tree_.apply(check_X(X, self, n_features=self.n_features_in_))

    def get_depth(self):
        check_fitted(self, "tree_")
        return self.tree_.max_depth

    def get_n_leaves(self):
        check_fitted(self, "tree_")
        return self.tree_.n_leaves

    @property
    def feature_importances_(self):
        """Mean decrease in impurity (MDI), normalised to sum to 1."""
        check_fitted(self, "tree_")
        return self.tree_.compute_feature_importances()


class DecisionTreeClassifier(BaseDecisionTree):
    def __init__(self, criterion="gini", splitter="best", max_depth=None, min_samples_split=2, min_samples_leaf=1,
                 min_weight_fraction_leaf=0.0, max_features=None, random_state=None, max_leaf_nodes=None,
                 min_impurity_decrease=0.0, ccp_alpha=0.0):
        super().__init__(criterion, splitter, max_depth, min_samples_split, min_samples_leaf,
                         min_weight_fraction_leaf, max_features, random_state, max_leaf_nodes,
                         min_impurity_decrease, ccp_alpha)

    def fit(self, X, y, sample_weight=None):
        X = check_X(X, self)
        classes, labels = check_classes(y, X.shape[0])
        self._fit_encoded(X, labels, len(classes), sample_weight)
        self.classes_ = classes
        return self

    def _fit_encoded(self, X, labels, n_classes, sample_weight):
        """Fit on checked float32 X and class indices 0..n_classes-1 (as a forest hands them over)."""
        validate_params(self, {"criterion": [Options("gini", "entropy", "log_loss")]} | _TREE_PARAMS)
        self.classes_, self.n_classes_, self.n_outputs_ = np.arange(n_classes), n_classes, 1

        def one_hot_weights(weights):  # (K, n): each row's weight in its class's row
            stats = np.zeros((n_classes, X.shape[0]))
            stats[labels, np.arange(X.shape[0])] = weights
            return stats
        return self._fit(X, labels, n_classes, sample_weight, one_hot_weights)

    def predict_proba(self, X):
        return self._leaf_values(X)  # the leaf's class fractions

    def predict_log_proba(self, X):
        with np.errstate(divide="ignore"):
            return np.log(self.predict_proba(X))

    def predict(self, X):
        proba = self.predict_proba(X)  # checks the fit first
        return self.classes_[np.argmax(proba, axis=1)]

    def score(self, X, y):
        """Mean accuracy on (X, y)."""
        return float(np.mean(self.predict(X) == np.asarray(y)))


class DecisionTreeRegressor(BaseDecisionTree):
    def __init__(self, criterion="squared_error", splitter="best", max_depth=None, min_samples_split=2,
                 min_samples_leaf=1, min_weight_fraction_leaf=0.0, max_features=None, random_state=None,
                 max_leaf_nodes=None, min_impurity_decrease=0.0, ccp_alpha=0.0):
        super().__init__(criterion, splitter, max_depth, min_samples_split, min_samples_leaf,
                         min_weight_fraction_leaf, max_features, random_state, max_leaf_nodes,
                         min_impurity_decrease, ccp_alpha)

    def fit(self, X, y, sample_weight=None):
        X = check_X(X, self)
        return self._fit_encoded(X, check_y(y, X.shape[0]), 1, sample_weight)

    def _fit_encoded(self, X, y, n_values, sample_weight):
        """Fit on checked float32 X and float64 targets (as a forest hands them over)."""
        validate_params(self, {"criterion": [Options("squared_error")]} | _TREE_PARAMS)
        self.n_outputs_ = 1
        return self._fit(X, None, 1, sample_weight, lambda w: (w * y)[None, :], lambda w: (w * y) * y)

    def predict(self, X):
        return self._leaf_values(X)[:, 0]

    def score(self, X, y):
        """R^2 on (X, y)."""
        return r2_score(np.asarray(y, dtype=np.float64), self.predict(X))
