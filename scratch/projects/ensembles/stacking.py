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

from scratch.projects.ensembles.checks import Interval, Options, check_classes, check_fitted, check_X, check_y, validate_params
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

    def fit(self, X, y):
        X, y = np.asarray(X, dtype=np.float64), np.asarray(y, dtype=np.float64)
        mean_x, mean_y = X.mean(axis=0), y.mean()
        Xc = X - mean_x
        self.coef_ = np.linalg.solve(Xc.T @ Xc + self.alpha * np.eye(X.shape[1]), Xc.T @ (y - mean_y))
        self.intercept_ = mean_y - mean_x @ self.coef_
        return self

    def predict(self, X):
        return np.asarray(X, dtype=np.float64) @ self.coef_ + self.intercept_


_PARAMS = {"cv": [Interval(int, 2, None)], "passthrough": [bool],
           "stack_method": [Options("auto", "predict_proba", "decision_function", "predict")]}


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

    def _fit(self, X, targets, labels_for_folds):
        validate_params(self, _PARAMS)
        if not isinstance(self.estimators, list) or not self.estimators:
            raise ValueError(f"estimators: expected a non-empty list of (name, estimator) pairs, got {self.estimators!r}")
        X = self._checked(X, reset=True)
        folds = kfold_test_rows(X.shape[0], self.cv, labels_for_folds)
        everything = np.arange(X.shape[0])
        self.stack_method_ = [self._method(estimator) for _, estimator in self.estimators]
        meta = []
        for (_, estimator), method in zip(self.estimators, self.stack_method_):
            out_of_fold = None
            for test in folds:  # a loop over folds: each member refitted k times
                train = np.setdiff1d(everything, test)
                member = self._clone(estimator).fit(X[train], targets[train])
                part = np.asarray(getattr(member, method)(X[test]), dtype=np.float64)
                if out_of_fold is None:
                    out_of_fold = np.empty((X.shape[0],) + part.shape[1:])
                out_of_fold[test] = part
            meta.append(self._columns(out_of_fold, method))
        self.estimators_ = [self._clone(estimator).fit(X, targets) for _, estimator in self.estimators]
        self.named_estimators_ = dict(zip([name for name, _ in self.estimators], self.estimators_))
        self.final_estimator_ = self._clone(self._final()).fit(self._meta(meta, X), targets)
        return self

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
        return self.final_estimator or LogisticRegression()

    def fit(self, X, y):
        self.classes_, encoded = check_classes(y, len(y))
        return self._fit(X, encoded, encoded)

    def predict(self, X):
        meta = self.transform(X)  # checks the fit first
        return self.classes_[np.asarray(self.final_estimator_.predict(meta)).astype(np.intp)]

    def predict_proba(self, X):
        return self.final_estimator_.predict_proba(self.transform(X))

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

    def fit(self, X, y):
        return self._fit(X, check_y(y, len(y)), None)

    def predict(self, X):
        return np.asarray(self.final_estimator_.predict(self.transform(X)))

    def score(self, X, y):
        return r2_score(np.asarray(y, dtype=np.float64), self.predict(X))
