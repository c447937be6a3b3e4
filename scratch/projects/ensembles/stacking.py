"""Stacking (Wolpert 1992; Breiman 1996): StackingClassifier and StackingRegressor. Each member's
predictions on the training rows are made out of fold (k-fold cross-validation: a row is
predicted by a copy fitted without it), so the meta-learner learns how far to trust each member
on rows it has not seen, not how well it memorised them. The members are then refitted on all
rows; at predict time their outputs feed the meta-learner. Follows scikit-learn's
StackingClassifier/Regressor: (stratified) k-fold without shuffling, ``stack_method`` "auto"
(probabilities, else decision scores, else labels; one column per member for two classes),
``passthrough`` appending X. Twin of reference/projects/ensembles/stacking.py.
"""
import copy

import numpy as np

from scratch.projects.ensembles.checks import (
    Interval,
    Options,
    check_class_weights,
    check_classes,
    check_fitted,
    check_sample_weight,
    check_X,
    check_y,
    validate_params,
)
from scratch.projects.ensembles.inspection import r2_score
from scratch.projects.ensembles.tree import Estimator
from scratch.projects.nlp.linear_models import LogisticRegression
from scratch.validation import check_features


def kfold_test_rows(n_samples, n_splits, labels=None):
    """The test rows of each fold, as scikit-learn's KFold (consecutive blocks, the first n % k one row larger) or,
    given ``labels``, StratifiedKFold without shuffling (each class's rows dealt to the folds in turn, by sorted
    label)."""
    if labels is None:
        sizes = np.full(n_splits, n_samples // n_splits)
        sizes[:n_samples % n_splits] += 1
        return np.split(np.arange(n_samples), np.cumsum(sizes)[:-1])
    _, first, inverse = np.unique(labels, return_index=True, return_inverse=True)
    _, class_order = np.unique(first, return_inverse=True)  # classes numbered by first appearance
    encoded = class_order[inverse]
    counts = np.bincount(encoded)
    if np.all(n_splits > counts):
        raise ValueError(f"cv: expected at most {counts.max()} folds (the largest class's rows), got {n_splits} (n_splits"
                         f"={n_splits} cannot be greater than the number of members in each class.)")
    ordered = np.sort(encoded)
    allocation = np.asarray([np.bincount(ordered[i::n_splits], minlength=len(counts)) for i in range(n_splits)])
    fold = np.empty(n_samples, dtype=np.intp)
    for k in range(len(counts)):  # a loop over classes
        fold[encoded == k] = np.arange(n_splits).repeat(allocation[:, k])
    return [np.flatnonzero(fold == i) for i in range(n_splits)]


class Ridge(Estimator):
    """Least squares with an L2 penalty alpha ||w||^2 on the weights (not the intercept): the default meta-learner
    of StackingRegressor, solved in closed form on the centred columns."""

    def __init__(self, alpha=1.0):
        self.alpha = alpha

    def fit(self, X, y, sample_weight=None):
        """With ``sample_weight`` w: sum_i w_i (y_i - x_i b - c)^2 + alpha ||b||^2, on the weighted means."""
        X, y = np.asarray(X, dtype=np.float64), np.asarray(y, dtype=np.float64)
        w = np.ones(len(y)) if sample_weight is None else sample_weight
        mean_x, mean_y = np.average(X, axis=0, weights=w), np.average(y, weights=w)
        Xc = X - mean_x
        self.coef_ = np.linalg.solve(Xc.T @ (w[:, None] * Xc) + self.alpha * np.eye(X.shape[1]),
                                     Xc.T @ (w * (y - mean_y)))
        self.intercept_ = mean_y - mean_x @ self.coef_
        return self

    def predict(self, X):
        return np.asarray(X, dtype=np.float64) @ self.coef_ + self.intercept_


_PARAMS = {"cv": [Interval(int, 2, None), list], "passthrough": [bool],
           "stack_method": [Options("auto", "predict_proba", "decision_function", "predict")]}


def _fit_weighted(estimator, X, y, sample_weight):
    """``estimator.fit`` with the weights if there are any (all estimators here take them; one that does not
    is refused, naming it)."""
    if sample_weight is None:
        return estimator.fit(X, y)
    try:
        return estimator.fit(X, y, sample_weight=sample_weight)
    except TypeError as error:
        if "sample_weight" not in str(error):
            raise
        raise TypeError(f"sample_weight: expected estimators whose fit takes sample_weight, got "
                        f"{type(estimator).__name__}, which does not ({error})") from error


class BaseStacking(Estimator):
    def _clone(self, estimator):
        """An unfitted copy (the scikit-learn protocol where the estimator has it, else a deep copy)."""
        if hasattr(estimator, "get_params"):
            return type(estimator)(**estimator.get_params())
        return copy.deepcopy(estimator)

    def _method(self, estimator):
        if self.stack_method != "auto":
            return self.stack_method
        for method in ("predict_proba", "decision_function", "predict"):
            if hasattr(estimator, method):
                return method
        raise ValueError(f"estimators: expected estimators with predict, got {estimator!r}")

    def _columns(self, predictions, method):
        predictions = np.asarray(predictions, dtype=np.float64)
        if predictions.ndim == 1:
            return predictions[:, None]
        if method == "predict_proba" and getattr(self, "classes_", None) is not None and len(self.classes_) == 2:
            return predictions[:, 1:]  # P(class 1) alone: the two columns are collinear
        return predictions

    def _validated(self, X, y, sample_weight):
        """(X, y, weights or None) checked before anything is fitted: the meta-estimator refuses bad input itself."""
        validate_params(self, _PARAMS)
        if not isinstance(self.estimators, list) or not self.estimators:
            raise ValueError(f"estimators: expected a non-empty list of (name, estimator) pairs, got {self.estimators!r}")
        X = self._checked(X, reset=True)
        if y is None:
            raise ValueError("y: expected targets, got None (requires y to be passed, but the target y is None)")
        if sample_weight is not None:
            sample_weight = check_sample_weight(sample_weight, X.shape[0])
        return X, y, sample_weight

    def _fit(self, X, targets, labels_for_folds, sample_weight):
        """Out-of-fold meta-features, the members refitted on every row, then the meta-learner; ``sample_weight``
        goes to every fit, a fold's rows' share to a fold's (scikit-learn routes it so)."""
        folds = self._folds(X.shape[0], labels_for_folds)
        self.stack_method_ = [self._method(estimator) for _, estimator in self.estimators]
        meta = []
        for (_, estimator), method in zip(self.estimators, self.stack_method_):
            out_of_fold = None
            for train, test in folds:  # a loop over folds: each member refitted k times
                member = _fit_weighted(self._clone(estimator), X[train], targets[train],
                                       None if sample_weight is None else sample_weight[train])
                part = np.asarray(getattr(member, method)(X[test]), dtype=np.float64)
                if out_of_fold is None:
                    out_of_fold = np.empty((X.shape[0],) + part.shape[1:])
                out_of_fold[test] = part
            meta.append(self._columns(out_of_fold, method))
        self.estimators_ = [_fit_weighted(self._clone(estimator), X, targets, sample_weight)
                            for _, estimator in self.estimators]
        self.named_estimators_ = dict(zip([name for name, _ in self.estimators], self.estimators_))
        self.final_estimator_ = _fit_weighted(self._clone(self._final()), self._meta(meta, X), targets, sample_weight)
        return self

    def _folds(self, n_samples, labels):
        """(train rows, test rows) per fold: k-fold for an int ``cv``, else the given pairs, whose test rows must
        cover every row exactly once (each row's meta-feature comes from the one fold that held it out)."""
        if not isinstance(self.cv, list):
            everything = np.arange(n_samples)
            return [(np.setdiff1d(everything, test), test) for test in kfold_test_rows(n_samples, self.cv, labels)]
        folds = [(np.asarray(train, dtype=np.intp), np.asarray(test, dtype=np.intp)) for train, test in self.cv]
        tested = np.sort(np.concatenate([test for _, test in folds]))
        if not np.array_equal(tested, np.arange(n_samples)):
            raise ValueError(f"cv: expected (train, test) pairs whose test rows partition the {n_samples} rows, got "
                             f"test rows that do not (cross_val_predict only works for partitions)")
        return folds

    def _checked(self, X, reset=False):
        """X as float64 (the members read it as they do; passthrough hands it on unrounded), checked as the trees
        check it."""
        X32 = check_X(X, self, n_features=None if reset else self.n_features_in_)
        self.n_features_in_ = X32.shape[1]
        return check_features(X, "X")

    def _meta(self, columns, X):
        return np.hstack(columns + ([X] if self.passthrough else []))

    def transform(self, X):
        """The meta-learner's input: each member's stacked outputs (and X with passthrough)."""
        check_fitted(self, "estimators_")
        X = self._checked(X)
        return self._meta([self._columns(getattr(member, method)(X), method)
                           for member, method in zip(self.estimators_, self.stack_method_)], X)


class StackingClassifier(BaseStacking):
    def __init__(self, estimators, final_estimator=None, cv=5, stack_method="auto", passthrough=False):
        self.estimators, self.final_estimator, self.cv = estimators, final_estimator, cv
        self.stack_method, self.passthrough = stack_method, passthrough

    def _final(self):
        """The meta-learner; by default a logistic regression. scikit-learn's is binomial for two classes (one
        weight vector w, penalty |w|^2 / 2C); the scratch one is always softmax (rows w0, w1 for two classes).
        Only w1 - w0 matters to the softmax, and for a given difference the penalty (|w0|^2 + |w1|^2) / 2C is
        least at w0 = -w1, where it is |w1 - w0|^2 / 4C: the binomial model with C doubled. So C = 0.5 here is
        scikit-learn's binomial model with C = 1, and the two fit the same probabilities."""
        if self.final_estimator is not None:
            return self.final_estimator
        return LogisticRegression(C=0.5 if len(self.classes_) == 2 else 1.0)

    def fit(self, X, y, sample_weight=None):
        X, y, sample_weight = self._validated(X, y, sample_weight)
        self.classes_, encoded = check_classes(y, X.shape[0])
        check_class_weights(encoded, sample_weight)
        return self._fit(X, encoded, encoded, sample_weight)

    def predict(self, X):
        meta = self.transform(X)  # checks the fit first
        return self.classes_[np.asarray(self.final_estimator_.predict(meta)).astype(np.intp)]

    def predict_proba(self, X):
        meta = self.transform(X)  # checks the fit first
        return self.final_estimator_.predict_proba(meta)

    def score(self, X, y):
        return float(np.mean(self.predict(X) == np.asarray(y)))


class StackingRegressor(BaseStacking):
    def __init__(self, estimators, final_estimator=None, cv=5, passthrough=False):
        self.estimators, self.final_estimator, self.cv, self.passthrough = estimators, final_estimator, cv, passthrough
        self.stack_method = "predict"

    @classmethod
    def _param_names(cls):
        return ["estimators", "final_estimator", "cv", "passthrough"]

    def _final(self):
        return self.final_estimator or Ridge()

    def fit(self, X, y, sample_weight=None):
        X, y, sample_weight = self._validated(X, y, sample_weight)
        return self._fit(X, check_y(y, X.shape[0]), None, sample_weight)

    def predict(self, X):
        meta = self.transform(X)  # checks the fit first
        return np.asarray(self.final_estimator_.predict(meta))

    def score(self, X, y):
        return r2_score(np.asarray(y, dtype=np.float64), self.predict(X))
