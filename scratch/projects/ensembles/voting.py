"""Voting: several fitted classifiers combined by a (weighted) majority of their labels, "hard", or by
the (weighted) average of their class probabilities, "soft". The simplest model combination: it
helps when the members err on different rows. Follows scikit-learn's VotingClassifier (members
fitted on label indices, ties to the first class). Twin of reference/projects/ensembles/voting.py.
"""
import numpy as np

from scratch.projects.ensembles.checks import Options, check_classes, check_fitted, check_sample_weight, check_X, validate_params
from scratch.projects.ensembles.tree import Estimator


class VotingClassifier(Estimator):
    def __init__(self, estimators, voting="hard", weights=None):
        self.estimators, self.voting, self.weights = estimators, voting, weights

    def fit(self, X, y, sample_weight=None):
        validate_params(self, {"voting": [Options("hard", "soft")]})
        if not isinstance(self.estimators, list) or not self.estimators:
            raise ValueError(f"estimators: expected a non-empty list of (name, estimator) pairs, got {self.estimators!r}")
        if self.weights is not None and len(self.weights) != len(self.estimators):
            raise ValueError(f"weights: expected {len(self.estimators)} weights, one per estimator, got "
                             f"{len(self.weights)} (Number of `estimators` and weights must be equal)")
        X = check_X(X, self, float32=False)
        self.n_features_in_ = X.shape[1]
        if y is None:
            raise ValueError("y: expected class labels, got None (requires y to be passed, but the target y is None)")
        self.classes_, labels = check_classes(y, X.shape[0])
        if sample_weight is not None:
            sample_weight = check_sample_weight(sample_weight, X.shape[0])
        self.estimators_ = []
        for _, estimator in self.estimators:  # fresh copies, fitted on class indices
            member = type(estimator)(**estimator.get_params())
            self.estimators_.append(member.fit(X, labels, sample_weight=sample_weight))
        return self

    def _checked(self, X):
        check_fitted(self, "estimators_")
        return check_X(X, self, n_features=self.n_features_in_, float32=False)

    @property
    def predict_proba(self):
        """The weighted mean of the members' probabilities (n, K); only with soft voting (with hard voting the
        attribute is missing, as in scikit-learn, so ``hasattr(model, "predict_proba")`` says so)."""
        if self.voting == "hard":
            raise AttributeError(f"predict_proba is not available when voting={self.voting!r}")
        return self._soft_proba

    def _soft_proba(self, X):
        X = self._checked(X)
        return np.average(np.asarray([member.predict_proba(X) for member in self.estimators_]), axis=0,
                          weights=self.weights)

    def predict(self, X):
        X = self._checked(X)
        if self.voting == "soft":
            return self.classes_[np.argmax(self._soft_proba(X), axis=1)]
        votes = np.zeros((X.shape[0], len(self.classes_)))
        weights = np.ones(len(self.estimators_)) if self.weights is None else self.weights
        for member, weight in zip(self.estimators_, weights):  # each member adds its weight to its label, in order
            votes[np.arange(X.shape[0]), member.predict(X)] += weight
        return self.classes_[np.argmax(votes, axis=1)]

    def score(self, X, y):
        return float(np.mean(self.predict(X) == np.asarray(y)))
