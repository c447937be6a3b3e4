"""Gradient boosting (Friedman 2001): GradientBoostingClassifier (binary and multiclass log loss,
binary exponential loss) and GradientBoostingRegressor (squared error, absolute error, Huber,
quantile), with an initial estimator or constant, warm starts, shrinkage, row subsampling (stochastic
gradient boosting, Friedman 2002), out-of-bag improvements and early stopping on a held-out split.

Stage m fits one regression tree per class (one for regression and binary) to the negative
gradient of the loss at the current raw predictions F, then replaces each leaf's value by the
loss's own step on that leaf's rows (a Newton step, or the weighted median or quantile of the
residuals; for squared error the tree's mean already is the step) and adds ``learning_rate``
times it: F_m = F_{m-1} + nu * h_m. F_0 is the best constant (the mean, median or quantile, or the
logit of the class prior), zero, or an ``init`` estimator's predictions through the loss's link. The trees are the scratch ``DecisionTreeRegressor`` (their
``tree_`` the same ``cart.Tree`` every estimator here uses), held in ``estimators_`` (n_stages,
n_trees_per_stage) as scikit-learn holds them; the model is ``init_raw_`` plus
``learning_rate`` times the sum of their leaf values.

Every draw follows scikit-learn's: one RandomState shared by the subsample masks and the trees'
seeds, in the order they are drawn. Twin of reference/projects/ensembles/boosting.py.
"""
import math
import numbers

import numpy as np

from scratch.projects.ensembles.checks import (
    HasMethods,
    Interval,
    Options,
    check_class_weights,
    check_classes,
    check_fitted,
    check_random_state,
    check_sample_weight,
    check_X,
    check_y,
    validate_params,
)
from scratch.projects.ensembles.inspection import r2_score
from scratch.projects.ensembles.losses import AbsoluteError, ExponentialLoss, HalfBinomialLoss, HalfMultinomialLoss, HalfSquaredError, HuberLoss, PinballLoss
from scratch.projects.ensembles.tree import _TREE_PARAMS, DecisionTreeRegressor, Estimator

_GB_PARAMS = {
    "learning_rate": [Interval(float, 0.0, None), Interval(int, 0, None)],
    "n_estimators": [Interval(int, 1, None)],
    "subsample": [Interval(float, 0.0, 1.0, closed="right"), Interval(int, 1, 1)],
    "validation_fraction": [Interval(float, 0.0, 1.0, closed="neither")],
    "n_iter_no_change": [Interval(int, 1, None), Options(None)],
    "tol": [Interval(float, 0.0, None), Interval(int, 0, None)],
    "init": [Options("zero", None), HasMethods("fit", "predict")],
    "warm_start": [bool],
} | {k: v for k, v in _TREE_PARAMS.items() if k != "splitter"}


def random_sample_mask(n_samples, n_in_bag, random_state):
    """scikit-learn's ``_random_sample_mask``: selection sampling (Knuth's algorithm S) of exactly n_in_bag rows.
    Row i is taken with probability (rows still wanted) / (rows left); each choice depends on the ones before it,
    so this is a loop over the rows, as the Cython is: it reproduces scikit-learn's draws, not the algorithm's cost."""
    rand = random_state.uniform(size=n_samples)
    mask, n_bagged = np.zeros(n_samples, dtype=bool), 0
    for i in range(n_samples):
        if rand[i] * (n_samples - i) < (n_in_bag - n_bagged):
            mask[i] = True
            n_bagged += 1
    return mask


def train_validation_split(n_samples, fraction, random_state, labels=None):
    """(train rows, validation rows) as scikit-learn's ``train_test_split(test_size=fraction)`` draws them:
    a permutation, or, given ``labels``, a stratified draw (``StratifiedShuffleSplit``)."""
    n_test = math.ceil(fraction * n_samples)
    n_train = n_samples - n_test
    rng = check_random_state(random_state)
    if labels is None:
        order = rng.permutation(n_samples)
        return order[n_test:n_test + n_train], order[:n_test]
    classes, encoded = np.unique(labels, return_inverse=True)
    counts = np.bincount(encoded)
    if counts.min() < 2:
        raise ValueError(f"y: expected at least 2 rows of every class to stratify the early-stopping split, got "
                         f"{counts.min()} (The least populated classes in y have only 1 member, which is too few.)")
    for name, size in (("train", n_train), ("validation", n_test)):
        if size < len(classes):
            raise ValueError(f"validation_fraction: expected a {name} split of at least {len(classes)} rows (one per "
                             f"class), got {size}")
    by_class = np.split(np.argsort(encoded, kind="stable"), np.cumsum(counts)[:-1])
    n_i = _approximate_mode(counts, n_train, rng)
    t_i = _approximate_mode(counts - n_i, n_test, rng)
    train, test = [], []
    for k in range(len(classes)):
        rows = by_class[k].take(rng.permutation(counts[k]), mode="clip")
        train.extend(rows[:n_i[k]])
        test.extend(rows[n_i[k]:n_i[k] + t_i[k]])
    return rng.permutation(train), rng.permutation(test)


def _approximate_mode(class_counts, n_draws, rng):
    """How many of ``n_draws`` each class gets in proportion to its count; remainders broken at random."""
    continuous = class_counts / class_counts.sum() * n_draws
    floored = np.floor(continuous)
    need = int(n_draws - floored.sum())
    if need > 0:
        remainder = continuous - floored
        for value in np.sort(np.unique(remainder))[::-1]:
            (rows,) = np.where(remainder == value)
            now = min(len(rows), need)
            floored[rng.choice(rows, size=now, replace=False)] += 1
            need -= now
            if need == 0:
                break
    return floored.astype(int)


REGRESSION_LOSSES = {"squared_error": lambda alpha: HalfSquaredError(), "absolute_error": lambda alpha: AbsoluteError(),
                     "huber": HuberLoss, "quantile": PinballLoss}  # by name: the loss, built from ``alpha``


class BaseGradientBoosting(Estimator):
    _init_by_proba = False  # an init estimator's predict_proba (classifiers) or predict (regressors) starts the scores
    def _fit(self, X, y, sample_weight, labels_for_split):
        """Boost on checked float32 X and encoded y (class indices as float, or targets). With ``warm_start``
        and a fitted model, boosting goes on from its last stage with its random state, up to n_estimators."""
        n_samples = X.shape[0]
        weights_given = sample_weight is not None
        weights = check_sample_weight(sample_weight, n_samples)
        self.max_features_ = self._max_features()
        if self.n_iter_no_change is not None:
            train, val = train_validation_split(n_samples, self.validation_fraction, self.random_state,
                                                labels_for_split)
            if labels_for_split is not None and len(np.unique(y[train])) != self.n_classes_:
                raise ValueError("y: expected every class in the early-stopping training split, got some missing "
                                 "(The training data after the early stopping split is missing some classes. Try "
                                 "using another random seed.)")
            X, X_val, y, y_val, weights, w_val = X[train], X[val], y[train], y[val], weights[train], weights[val]
        loss = self._loss
        n_samples = X.shape[0]
        resume = self.warm_start and len(getattr(self, "estimators_", ())) > 0
        if resume:
            if self.n_estimators < len(self.estimators_):
                raise ValueError(f"n_estimators: expected at least the {len(self.estimators_)} stages already fitted "
                                 f"with warm_start=True, got {self.n_estimators} (n_estimators={self.n_estimators} "
                                 f"must be larger or equal to estimators_.shape[0]={len(self.estimators_)} when "
                                 f"warm_start==True)")
            begin, estimators, train_score = len(self.estimators_), list(self.estimators_), list(self.train_score_)
            oob_scores = list(getattr(self, "oob_scores_", np.zeros(begin)))
            raw = self._raw(X)  # the scores so far, summed as predict sums them
        else:
            self._fit_init(X, y, weights if weights_given else None)
            begin, estimators, train_score, oob_scores = 0, [], [], []
            raw = self._initial_raw(X)  # (n, K)
            self._rng = check_random_state(self.random_state)  # kept: a warm start draws on from here
        rng = self._rng
        n_in_bag, subsample = max(1, int(self.subsample * n_samples)), self.subsample < 1.0
        mask, history = np.ones(n_samples, dtype=bool), np.full(self.n_iter_no_change or 1, np.inf)
        val_raw = None if self.n_iter_no_change is None else self._initial_raw(X_val)
        for stage in range(begin, self.n_estimators):
            if subsample:
                mask = random_sample_mask(n_samples, n_in_bag, rng)
                if stage == 0:
                    initial_oob = loss.mean(y[~mask], raw[~mask], weights[~mask])
            estimators.append(self._fit_stage(X, y, raw, weights, mask, rng))
            if subsample:
                train_score.append(loss.mean(y[mask], raw[mask], weights[mask]))
                oob_scores.append(loss.mean(y[~mask], raw[~mask], weights[~mask]))
            else:
                train_score.append(loss.mean(y, raw, weights))
            if val_raw is not None:  # stop once the validation loss has not improved by tol for n_iter_no_change stages
                # scikit-learn's validation scores walk the stages from the first, also after a warm start
                # (its staged predictions begin at stage 0), so stage ``stage - begin`` is added here
                self._add_stage(estimators[stage - begin], X_val, val_raw)
                val_loss = loss.mean(y_val, val_raw, w_val)
                if np.any(val_loss + self.tol < history):
                    history[stage % len(history)] = val_loss
                else:
                    break
        self.estimators_ = np.empty((len(estimators), loss.n_trees), dtype=object)
        self.estimators_[:] = estimators
        self.train_score_ = np.array(train_score)
        self.n_estimators_ = len(estimators)
        if subsample:
            self.oob_scores_ = np.array(oob_scores)
            before = np.r_[initial_oob, self.oob_scores_[:-1]] if begin == 0 else self.oob_scores_[begin - 1:-1]
            self.oob_improvement_ = np.r_[getattr(self, "oob_improvement_", np.zeros(begin))[:begin],
                                          before - self.oob_scores_[begin:]]
            self.oob_score_ = self.oob_scores_[-1]
        return self

    def _fit_init(self, X, y, sample_weight):
        """The initial model: ``init_raw_``, the loss's best constant (or zeros for "zero"), or ``init`` as given,
        fitted here (``init_``) and read through the loss's link; ``init_raw_`` is None then."""
        for name in ("oob_scores_", "oob_improvement_", "oob_score_"):
            self.__dict__.pop(name, None)  # a cold start forgets the last fit's
        self.init_raw_ = None
        self.__dict__.pop("init_", None)
        if self.init is None or (isinstance(self.init, str) and self.init == "zero"):
            self.init_raw_ = (np.zeros(self._loss.n_trees) if self.init == "zero" else self._loss.init_raw(y, sample_weight))
            return
        self.init_ = type(self.init)(**self.init.get_params()) if hasattr(self.init, "get_params") else self.init
        if sample_weight is None:
            self.init_.fit(X, y)
            return
        try:
            self.init_.fit(X, y, sample_weight=sample_weight)
        except TypeError as error:
            if "sample_weight" not in str(error):
                raise
            raise ValueError(f"init: expected an estimator whose fit takes sample_weight (sample weights were given), "
                             f"got {type(self.init).__name__} (The initial estimator {type(self.init).__name__} does "
                             f"not support sample weights.)") from error

    def _initial_raw(self, X):
        """The raw scores before the first stage: (n, K)."""
        if self.init_raw_ is not None:
            return np.tile(self.init_raw_, (X.shape[0], 1))
        if self._init_by_proba:
            eps = np.finfo(np.float64).eps
            proba = np.clip(self.init_.predict_proba(X), eps, 1 - eps, dtype=np.float64)
            return self._loss.link(proba if self._loss.is_multiclass else proba[:, 1])
        return self._loss.link(np.asarray(self.init_.predict(X), dtype=np.float64))

    def _fit_stage(self, X, y, raw, weights, mask, rng):
        """One tree per class on the negative gradient; leaves set to their Newton steps; raw updated in place."""
        loss = self._loss
        if isinstance(loss, HuberLoss):
            loss.set_delta(y, raw, weights)
        neg_gradient = -loss.gradient(y, raw)  # (n, K)
        if self.subsample < 1.0:
            weights = weights * mask.astype(np.float64)
        trees = []
        for k in range(loss.n_trees):
            tree = DecisionTreeRegressor(max_depth=self.max_depth, min_samples_split=self.min_samples_split,
                                         min_samples_leaf=self.min_samples_leaf,
                                         min_weight_fraction_leaf=self.min_weight_fraction_leaf,
                                         min_impurity_decrease=self.min_impurity_decrease,
                                         max_features=self.max_features, max_leaf_nodes=self.max_leaf_nodes,
                                         random_state=rng, ccp_alpha=self.ccp_alpha)
            tree._fit_encoded(X, neg_gradient[:, k], 1, weights)
            leaves = tree.tree_.apply(X)
            if loss.updates_leaves:
                target = (y == k).astype(np.float64) if loss.is_multiclass else y
                self._update_leaves(tree.tree_, np.where(mask, leaves, -1), target, neg_gradient[:, k], raw[:, k],
                                    weights)
            raw[:, k] += self.learning_rate * tree.tree_.value[:, 0, 0].take(leaves, axis=0)
            trees.append(tree)
        return trees

    def _update_leaves(self, tree, leaves, y, neg_g, raw, weights):
        """Each leaf's value becomes the loss's own step over its in-bag rows (a Newton step, or a weighted
        median or quantile of the residuals): a loop over leaves, not rows. Out-of-bag rows have leaf -1."""
        order = np.argsort(leaves, kind="stable")  # rows grouped by leaf, ascending row order within a leaf
        ids, starts = np.unique(leaves[order], return_index=True)
        for leaf, rows in zip(ids, np.split(order, starts[1:])):
            if leaf >= 0:
                tree.value[leaf, 0, 0] = self._loss.leaf_value(neg_g[rows], y[rows], raw[rows], weights[rows])

    def _max_features(self):
        n = self.n_features_in_
        if self.max_features == "sqrt":
            return max(1, int(np.sqrt(n)))
        if self.max_features == "log2":
            return max(1, int(np.log2(n)))
        if self.max_features is None:
            return n
        if isinstance(self.max_features, numbers.Integral):
            return int(self.max_features)
        return max(1, int(self.max_features * n))

    def _add_stage(self, trees, X, raw):
        for k, tree in enumerate(trees):
            raw[:, k] += self.learning_rate * tree.tree_.value[:, 0, 0].take(tree.tree_.apply(X), axis=0)

    def _checked(self, X):
        check_fitted(self, "estimators_")
        return check_X(X, self, n_features=self.n_features_in_)

    def _raw(self, X):
        """The raw scores (n, K) of checked X: the start plus every stage, in order."""
        raw = self._initial_raw(X)
        for trees in self.estimators_:
            self._add_stage(trees, X, raw)
        return raw

    def _raw_predict(self, X):
        return self._raw(self._checked(X))

    def _staged_raw_predict(self, X):
        X = self._checked(X)
        raw = self._initial_raw(X)
        for trees in self.estimators_:
            self._add_stage(trees, X, raw)
            yield raw.copy()

    def apply(self, X):
        """The leaf of every row in every tree: (n, n_stages, n_trees_per_stage)."""
        X = self._checked(X)
        return np.stack([[tree.tree_.apply(X) for tree in trees] for trees in self.estimators_]).transpose(2, 0, 1)

    @property
    def feature_importances_(self):
        """Unnormalised MDI averaged over the trees that split, then normalised (as scikit-learn)."""
        check_fitted(self, "estimators_")
        trees = [tree for stage in self.estimators_ for tree in stage if tree.tree_.node_count > 1]
        if not trees:
            return np.zeros(self.n_features_in_)
        mean = np.mean([tree.tree_.compute_feature_importances(normalize=False) for tree in trees], axis=0,
                       dtype=np.float64)
        return mean / np.sum(mean)


class GradientBoostingClassifier(BaseGradientBoosting):
    _init_by_proba = True
    def __init__(self, loss="log_loss", learning_rate=0.1, n_estimators=100, subsample=1.0, min_samples_split=2,
                 min_samples_leaf=1, min_weight_fraction_leaf=0.0, max_depth=3, min_impurity_decrease=0.0, init=None,
                 random_state=None, max_features=None, max_leaf_nodes=None, warm_start=False,
                 validation_fraction=0.1, n_iter_no_change=None, tol=1e-4, ccp_alpha=0.0):
        self.loss, self.learning_rate, self.n_estimators, self.subsample = loss, learning_rate, n_estimators, subsample
        self.min_samples_split, self.min_samples_leaf = min_samples_split, min_samples_leaf
        self.min_weight_fraction_leaf, self.max_depth = min_weight_fraction_leaf, max_depth
        self.min_impurity_decrease, self.init, self.random_state = min_impurity_decrease, init, random_state
        self.max_features, self.max_leaf_nodes, self.warm_start = max_features, max_leaf_nodes, warm_start
        self.validation_fraction, self.n_iter_no_change, self.tol = validation_fraction, n_iter_no_change, tol
        self.ccp_alpha = ccp_alpha

    def fit(self, X, y, sample_weight=None):
        validate_params(self, {"loss": [Options("log_loss", "exponential")]} | _GB_PARAMS
                        | {"init": [Options("zero", None), HasMethods("fit", "predict_proba")]})
        X = check_X(X, self)
        self.n_features_in_ = X.shape[1]
        self.classes_, labels = check_classes(y, X.shape[0])
        self.n_classes_ = len(self.classes_)
        if sample_weight is not None:
            check_class_weights(labels, check_sample_weight(sample_weight, X.shape[0]))
        if self.loss == "exponential" and self.n_classes_ > 2:
            raise ValueError(f"loss: expected 'log_loss' with {self.n_classes_} classes (the exponential loss is "
                             f"binary), got 'exponential' (loss='exponential' is only suitable for a binary "
                             f"classification problem, you have n_classes={self.n_classes_}. Please use "
                             f"loss='log_loss' instead.)")
        if self.n_classes_ > 2:
            self._loss = HalfMultinomialLoss(self.n_classes_)
        else:
            self._loss = ExponentialLoss() if self.loss == "exponential" else HalfBinomialLoss()
        self.n_trees_per_iteration_ = self._loss.n_trees
        return self._fit(X, labels.astype(np.float64), sample_weight, labels)

    def decision_function(self, X):
        """The raw score F(x): (n,) for two classes, (n, K) otherwise."""
        raw = self._raw_predict(X)
        return raw.ravel() if raw.shape[1] == 1 else raw

    def staged_decision_function(self, X):
        yield from self._staged_raw_predict(X)

    def _labels(self, raw):
        return self.classes_[(raw[:, 0] >= 0).astype(int) if raw.shape[1] == 1 else np.argmax(raw, axis=1)]

    def predict(self, X):
        return self._labels(self._raw_predict(X))

    def staged_predict(self, X):
        for raw in self._staged_raw_predict(X):
            yield self._labels(raw)

    def predict_proba(self, X):
        raw = self._raw_predict(X)  # checks the fit first
        return self._loss.proba(raw)

    def staged_predict_proba(self, X):
        for raw in self._staged_raw_predict(X):
            yield self._loss.proba(raw)

    def predict_log_proba(self, X):
        with np.errstate(divide="ignore"):
            return np.log(self.predict_proba(X))

    def score(self, X, y):
        return float(np.mean(self.predict(X) == np.asarray(y)))


class GradientBoostingRegressor(BaseGradientBoosting):
    def __init__(self, loss="squared_error", learning_rate=0.1, n_estimators=100, subsample=1.0, min_samples_split=2,
                 min_samples_leaf=1, min_weight_fraction_leaf=0.0, max_depth=3, min_impurity_decrease=0.0, init=None,
                 random_state=None, max_features=None, alpha=0.9, max_leaf_nodes=None, warm_start=False,
                 validation_fraction=0.1, n_iter_no_change=None, tol=1e-4, ccp_alpha=0.0):
        self.loss, self.learning_rate, self.n_estimators, self.subsample = loss, learning_rate, n_estimators, subsample
        self.min_samples_split, self.min_samples_leaf = min_samples_split, min_samples_leaf
        self.min_weight_fraction_leaf, self.max_depth = min_weight_fraction_leaf, max_depth
        self.min_impurity_decrease, self.init, self.random_state = min_impurity_decrease, init, random_state
        self.max_features, self.max_leaf_nodes, self.warm_start = max_features, max_leaf_nodes, warm_start
        self.validation_fraction, self.n_iter_no_change, self.tol = validation_fraction, n_iter_no_change, tol
        self.ccp_alpha, self.alpha = ccp_alpha, alpha

    def fit(self, X, y, sample_weight=None):
        validate_params(self, {"loss": [Options(*REGRESSION_LOSSES)],
                               "alpha": [Interval(float, 0.0, 1.0, closed="neither")]} | _GB_PARAMS)
        X = check_X(X, self)
        self.n_features_in_ = X.shape[1]
        self._loss = REGRESSION_LOSSES[self.loss](self.alpha)
        self.n_trees_per_iteration_ = 1
        return self._fit(X, check_y(y, X.shape[0]), sample_weight, None)

    def predict(self, X):
        return self._raw_predict(X).ravel()

    def staged_predict(self, X):
        for raw in self._staged_raw_predict(X):
            yield raw.ravel()

    def score(self, X, y):
        return r2_score(np.asarray(y, dtype=np.float64), self.predict(X))
