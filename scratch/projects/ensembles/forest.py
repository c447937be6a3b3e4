"""Bagged trees: RandomForestClassifier/Regressor (Breiman 2001), ExtraTreesClassifier (Geurts
et al. 2006) and BaggingClassifier/Regressor (Breiman 1996), with out-of-bag scores and
mean-decrease-in-impurity importances.

Each tree sees a bootstrap sample, held as integer weights (``bincount`` of the drawn rows), so
no row is copied and the rows never drawn are the tree's out-of-bag rows; a forest also draws
``max_features`` candidate features at every split, and extra trees a random threshold per
feature. Averaging many such trees keeps the bias of one deep tree and divides its variance.
Every draw follows scikit-learn's order (one seed per tree from ``RandomState(random_state)``,
then the bootstrap from that seed), so the forests equal scikit-learn's tree for tree. Twin of
reference/projects/ensembles/forest.py.
"""
import warnings

import numpy as np

from scratch.projects.ensembles.checks import (
    Interval,
    Options,
    check_classes,
    check_fitted,
    check_random_state,
    check_sample_weight,
    check_X,
    check_y,
    validate_params,
)
from scratch.projects.ensembles.inspection import r2_score
from scratch.projects.ensembles.tree import _TREE_PARAMS, DecisionTreeClassifier, DecisionTreeRegressor, Estimator

MAX_INT = np.iinfo(np.int32).max
_ENSEMBLE_PARAMS = {
    "n_estimators": [Interval(int, 1, None)],
    "bootstrap": [bool],
    "oob_score": [bool],
    "random_state": _TREE_PARAMS["random_state"],
    "max_samples": [Options(None), Interval(int, 1, None), Interval(float, 0.0, 1.0, closed="right")],
}


def n_bootstrap(n_samples, max_samples, sample_weight):
    """How many rows each bootstrap draws (scikit-learn's ``_get_n_samples_bootstrap``)."""
    if max_samples is None:
        return n_samples
    if isinstance(max_samples, (int, np.integer)):
        return int(max_samples)
    total = n_samples if sample_weight is None else sample_weight.sum()
    return max(int(max_samples * total), 1)


def bootstrap_indices(seed, n_samples, n_draws, sample_weight):
    """The rows a tree's bootstrap draws: uniform, or in proportion to ``sample_weight``."""
    rng = np.random.RandomState(seed)
    if sample_weight is None:
        return rng.randint(0, n_samples, n_draws)
    return rng.choice(n_samples, n_draws, replace=True, p=sample_weight / np.sum(sample_weight))


class BaseForest(Estimator):
    tree_class = None

    def _tree_params(self):
        names = DecisionTreeClassifier._param_names()
        return {name: getattr(self, name) for name in names if hasattr(self, name) and name not in ("random_state", "splitter")}

    def fit(self, X, y, sample_weight=None):
        is_classifier = self.tree_class is DecisionTreeClassifier
        criteria = ("gini", "entropy", "log_loss") if is_classifier else ("squared_error",)
        validate_params(self, {"criterion": [Options(*criteria)]} | _ENSEMBLE_PARAMS
                        | {k: v for k, v in _TREE_PARAMS.items() if k not in ("random_state", "splitter")})
        if self.oob_score and not self.bootstrap:
            raise ValueError("oob_score: expected False when bootstrap=False, got True (Out of bag estimation only "
                             "available if bootstrap=True)")
        X = check_X(X, self)
        n_samples, self.n_features_in_ = X.shape
        if is_classifier:
            self.classes_, labels = check_classes(y, n_samples)
            self.n_classes_ = len(self.classes_)
            targets = labels
        else:
            targets = check_y(y, n_samples)
        weights = None if sample_weight is None else check_sample_weight(sample_weight, n_samples)
        n_draws = n_bootstrap(n_samples, self.max_samples, weights) if self.bootstrap else None
        random_state = check_random_state(self.random_state)
        seeds = [random_state.randint(MAX_INT) for _ in range(self.n_estimators)]  # one per tree, in order
        self.estimators_ = []
        for seed in seeds:
            tree = self.tree_class(random_state=seed, splitter=self.splitter, **self._tree_params())
            tree_weights = weights
            if self.bootstrap:
                tree_weights = np.bincount(bootstrap_indices(seed, n_samples, n_draws, weights), minlength=n_samples)
            tree._fit_encoded(X, targets, self.n_classes_ if is_classifier else 1, tree_weights)
            self.estimators_.append(tree)
        self._oob_setup = (n_draws, weights)
        if self.oob_score:
            self._set_oob_score(X, targets)
        return self

    def _tree_values(self, tree, X):
        return tree.tree_.predict(X)[:, 0, :]  # (n, K) class fractions or (n, 1) means

    def _mean_of_trees(self, X):
        """The trees' leaf values summed in tree order, then divided by their number."""
        check_fitted(self, "estimators_")
        X = check_X(X, self, n_features=self.n_features_in_)
        total = np.zeros((X.shape[0], self.estimators_[0].tree_.max_n_classes))
        for tree in self.estimators_:
            total += self._tree_values(tree, X)
        total /= len(self.estimators_)
        return total

    def _oob_sums(self, X):
        """(sum of out-of-bag leaf values (n, K), number of trees that left each row out (n, 1))."""
        n_samples = X.shape[0]
        n_draws, weights = self._oob_setup
        sums = np.zeros((n_samples, self.estimators_[0].tree_.max_n_classes))
        counts = np.zeros((n_samples, 1), dtype=np.int64)
        for tree in self.estimators_:
            drawn = np.bincount(bootstrap_indices(tree.random_state, n_samples, n_draws, weights), minlength=n_samples)
            out = np.flatnonzero(drawn == 0)
            sums[out] += self._tree_values(tree, X[out])
            counts[out] += 1
        if (counts == 0).any():
            warnings.warn("Some inputs do not have OOB scores. This probably means too few trees were used to "
                          "compute any reliable OOB estimates.", UserWarning, stacklevel=3)
            counts[counts == 0] = 1
        return sums / counts

    @property
    def feature_importances_(self):
        """MDI averaged over the trees that split at least once, renormalised."""
        check_fitted(self, "estimators_")
        importances = [tree.feature_importances_ for tree in self.estimators_ if tree.tree_.node_count > 1]
        if not importances:
            return np.zeros(self.n_features_in_)
        mean = np.mean(importances, axis=0, dtype=np.float64)
        return mean / np.sum(mean)


class ForestClassifier(BaseForest):
    tree_class = DecisionTreeClassifier

    def predict_proba(self, X):
        return self._mean_of_trees(X)

    def predict(self, X):
        proba = self.predict_proba(X)  # checks the fit first
        return self.classes_[np.argmax(proba, axis=1)]

    def _set_oob_score(self, X, labels):
        self.oob_decision_function_ = self._oob_sums(X)
        self.oob_score_ = float(np.mean(labels == np.argmax(self.oob_decision_function_, axis=1)))

    def score(self, X, y):
        return float(np.mean(self.predict(X) == np.asarray(y)))


class ForestRegressor(BaseForest):
    tree_class = DecisionTreeRegressor

    def predict(self, X):
        return self._mean_of_trees(X)[:, 0]

    def _set_oob_score(self, X, y):
        self.oob_prediction_ = self._oob_sums(X)[:, 0]
        self.oob_score_ = r2_score(y, self.oob_prediction_)

    def score(self, X, y):
        return r2_score(np.asarray(y, dtype=np.float64), self.predict(X))


class RandomForestClassifier(ForestClassifier):
    splitter = "best"

    def __init__(self, n_estimators=100, criterion="gini", max_depth=None, min_samples_split=2, min_samples_leaf=1,
                 min_weight_fraction_leaf=0.0, max_features="sqrt", max_leaf_nodes=None, min_impurity_decrease=0.0,
                 bootstrap=True, oob_score=False, random_state=None, ccp_alpha=0.0, max_samples=None):
        self.n_estimators, self.criterion, self.max_depth = n_estimators, criterion, max_depth
        self.min_samples_split, self.min_samples_leaf = min_samples_split, min_samples_leaf
        self.min_weight_fraction_leaf, self.max_features = min_weight_fraction_leaf, max_features
        self.max_leaf_nodes, self.min_impurity_decrease = max_leaf_nodes, min_impurity_decrease
        self.bootstrap, self.oob_score, self.random_state = bootstrap, oob_score, random_state
        self.ccp_alpha, self.max_samples = ccp_alpha, max_samples


class ExtraTreesClassifier(RandomForestClassifier):
    """Extremely randomised trees: a uniform random threshold per visited feature, no bootstrap by default."""

    splitter = "random"

    def __init__(self, n_estimators=100, criterion="gini", max_depth=None, min_samples_split=2, min_samples_leaf=1,
                 min_weight_fraction_leaf=0.0, max_features="sqrt", max_leaf_nodes=None, min_impurity_decrease=0.0,
                 bootstrap=False, oob_score=False, random_state=None, ccp_alpha=0.0, max_samples=None):
        super().__init__(n_estimators, criterion, max_depth, min_samples_split, min_samples_leaf,
                         min_weight_fraction_leaf, max_features, max_leaf_nodes, min_impurity_decrease, bootstrap,
                         oob_score, random_state, ccp_alpha, max_samples)


class RandomForestRegressor(ForestRegressor):
    splitter = "best"

    def __init__(self, n_estimators=100, criterion="squared_error", max_depth=None, min_samples_split=2,
                 min_samples_leaf=1, min_weight_fraction_leaf=0.0, max_features=1.0, max_leaf_nodes=None,
                 min_impurity_decrease=0.0, bootstrap=True, oob_score=False, random_state=None, ccp_alpha=0.0,
                 max_samples=None):
        self.n_estimators, self.criterion, self.max_depth = n_estimators, criterion, max_depth
        self.min_samples_split, self.min_samples_leaf = min_samples_split, min_samples_leaf
        self.min_weight_fraction_leaf, self.max_features = min_weight_fraction_leaf, max_features
        self.max_leaf_nodes, self.min_impurity_decrease = max_leaf_nodes, min_impurity_decrease
        self.bootstrap, self.oob_score, self.random_state = bootstrap, oob_score, random_state
        self.ccp_alpha, self.max_samples = ccp_alpha, max_samples


def draw_without_replacement(rng, n_population, n_draws):
    """scikit-learn's ``sample_without_replacement(method="auto")``, draw for draw."""
    ratio = n_draws / n_population
    if 0.01 < ratio < 0.99:
        return rng.permutation(n_population)[:n_draws]
    if ratio < 0.01:  # tracking selection: redraw what was already drawn
        chosen, out = set(), []
        while len(out) < n_draws:
            j = rng.randint(n_population)
            if j not in chosen:
                chosen.add(j)
                out.append(j)
        return np.array(out, dtype=np.intp)
    out = np.arange(n_draws)  # reservoir sampling; a loop over the population, as the Cython
    for i in range(n_draws, n_population):
        j = rng.randint(0, i + 1)
        if j < n_draws:
            out[j] = i
    return out


class BaseBagging(Estimator):
    """Bagging: each estimator (a tree by default) fitted on a bootstrap of the rows and a draw of the features."""

    estimator_class = None

    def __init__(self, estimator=None, n_estimators=10, max_samples=None, max_features=1.0, bootstrap=True,
                 bootstrap_features=False, oob_score=False, random_state=None):
        self.estimator, self.n_estimators, self.max_samples = estimator, n_estimators, max_samples
        self.max_features, self.bootstrap, self.bootstrap_features = max_features, bootstrap, bootstrap_features
        self.oob_score, self.random_state = oob_score, random_state

    def _draws(self, seed, n_samples, sample_weight):
        """(feature indices, row indices) of one estimator, drawn from its seed as scikit-learn draws them."""
        rng = np.random.RandomState(seed)
        if self.bootstrap_features:
            features = rng.randint(0, self.n_features_in_, self._max_features)
        else:
            features = draw_without_replacement(rng, self.n_features_in_, self._max_features)
        if sample_weight is not None:
            rows = rng.choice(n_samples, self._max_samples, replace=self.bootstrap,
                              p=sample_weight / np.sum(sample_weight))
        elif self.bootstrap:
            rows = rng.randint(0, n_samples, self._max_samples)
        else:
            rows = draw_without_replacement(rng, n_samples, self._max_samples)
        return features, rows

    def fit(self, X, y, sample_weight=None):
        validate_params(self, {**_ENSEMBLE_PARAMS, "bootstrap_features": [bool],
                               "max_features": [Interval(int, 1, None), Interval(float, 0.0, 1.0, closed="right")],
                               "estimator": [Options(None), self.estimator_class]})
        X = check_X(X, self)
        n_samples, self.n_features_in_ = X.shape
        targets = self._targets(y, n_samples)
        weights = None if sample_weight is None else check_sample_weight(sample_weight, n_samples)
        self._max_samples = n_bootstrap(n_samples, self.max_samples, weights)
        if not self.bootstrap and self._max_samples > n_samples:
            raise ValueError(f"max_samples: expected at most n_samples = {n_samples} without bootstrap, got "
                             f"{self._max_samples}")
        max_features = self.max_features
        if isinstance(max_features, float):
            max_features = int(max_features * self.n_features_in_)
        if max_features > self.n_features_in_:
            raise ValueError(f"max_features: expected at most n_features = {self.n_features_in_}, got {max_features} "
                             f"(max_features must be <= n_features)")
        self._max_features = max(1, int(max_features))
        if self.oob_score and not self.bootstrap:
            raise ValueError("oob_score: expected False when bootstrap=False, got True (Out of bag estimation only "
                             "available if bootstrap=True)")
        random_state = check_random_state(self.random_state)
        self._seeds = random_state.randint(MAX_INT, size=self.n_estimators)
        base = self.estimator or self.estimator_class()
        self.estimators_, self.estimators_features_, self._weights = [], [], weights
        for seed in self._seeds:
            estimator = type(base)(**base.get_params())
            estimator.random_state = np.random.RandomState(seed).randint(MAX_INT)  # _set_random_states
            features, rows = self._draws(seed, n_samples, weights)
            estimator._fit_encoded(np.ascontiguousarray(X[:, features]), targets, self._n_values,
                                   np.bincount(rows, minlength=n_samples).astype(np.float64))
            self.estimators_.append(estimator)
            self.estimators_features_.append(features)
        if self.oob_score:
            self._set_oob_score(X, targets)
        return self

    def _sum_of_estimators(self, X, rows=None):
        """Each estimator's leaf values on its own features, summed in estimator order."""
        total = np.zeros((X.shape[0], self._n_values))
        for estimator, features in zip(self.estimators_, self.estimators_features_):
            total += estimator.tree_.predict(np.ascontiguousarray(X[:, features]))[:, 0, :]
        return total

    def _oob(self, X):
        n_samples = X.shape[0]
        sums, counts = np.zeros((n_samples, self._n_values)), np.zeros(n_samples)
        for seed, estimator, features in zip(self._seeds, self.estimators_, self.estimators_features_):
            out = ~np.isin(np.arange(n_samples), self._draws(seed, n_samples, self._weights)[1])
            sums[out] += estimator.tree_.predict(np.ascontiguousarray(X[out][:, features]))[:, 0, :]
            counts[out] += 1
        return sums, counts

    def _checked(self, X):
        check_fitted(self, "estimators_")
        return check_X(X, self, n_features=self.n_features_in_)


class BaggingClassifier(BaseBagging):
    estimator_class = DecisionTreeClassifier

    def _targets(self, y, n_samples):
        self.classes_, labels = check_classes(y, n_samples)
        self.n_classes_ = self._n_values = len(self.classes_)
        return labels

    def predict_proba(self, X):
        return self._sum_of_estimators(self._checked(X)) / self.n_estimators

    def predict(self, X):
        proba = self.predict_proba(X)  # checks the fit first
        return self.classes_[np.argmax(proba, axis=1)]

    def _set_oob_score(self, X, labels):
        sums, _ = self._oob(X)
        if (sums.sum(axis=1) == 0).any():
            warnings.warn("Some inputs do not have OOB scores. This probably means too few estimators were used to "
                          "compute any reliable oob estimates.", UserWarning, stacklevel=3)
        with np.errstate(invalid="ignore"):
            self.oob_decision_function_ = sums / sums.sum(axis=1)[:, np.newaxis]
        self.oob_score_ = float(np.mean(labels == np.argmax(sums, axis=1)))

    def score(self, X, y):
        return float(np.mean(self.predict(X) == np.asarray(y)))


class BaggingRegressor(BaseBagging):
    estimator_class = DecisionTreeRegressor

    def _targets(self, y, n_samples):
        self._n_values = 1
        return check_y(y, n_samples)

    def predict(self, X):
        return self._sum_of_estimators(self._checked(X))[:, 0] / self.n_estimators

    def _set_oob_score(self, X, y):
        sums, counts = self._oob(X)
        if (counts == 0).any():
            warnings.warn("Some inputs do not have OOB scores. This probably means too few estimators were used to "
                          "compute any reliable oob estimates.", UserWarning, stacklevel=3)
            counts[counts == 0] = 1
        self.oob_prediction_ = sums[:, 0] / counts
        self.oob_score_ = r2_score(y, self.oob_prediction_)

    def score(self, X, y):
        return r2_score(np.asarray(y, dtype=np.float64), self.predict(X))
