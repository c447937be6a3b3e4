"""AdaBoost: reweight the training rows after each member so that the next one works on what the
ensemble still gets wrong.

- ``AdaBoostClassifier``: SAMME (Zhu, Zou, Rosset and Hastie 2009), the multiclass generalisation of
  Freund and Schapire's AdaBoost. Each member (a stump by default) is fitted to the current sample
  weights; its weighted error e gives it the vote alpha = learning_rate * (log((1 - e) / e) +
  log(K - 1)), and the rows it got wrong have their weights multiplied by e^alpha.
- ``AdaBoostRegressor``: AdaBoost.R2 (Drucker 1997). Each member (a depth-3 tree by default) is
  fitted to a bootstrap sample drawn with the current weights as probabilities; its errors
  |h(x) - y|, scaled by the largest, pass through the ``loss`` (linear, square or exponential), and
  their weighted mean e gives beta = e / (1 - e), the vote learning_rate * log(1 / beta), and each
  row's weight a factor beta^((1 - its error) * learning_rate): the rows it fits well lose weight.
  The prediction is the weighted median of the members' predictions.

Both stop early on a perfect member, or drop one that is no better than chance (e >= 1 - 1/K, or
e >= 0.5 for regression). They follow scikit-learn's loops step for step (weights renormalised each
round, clipped at machine epsilon, members seeded in order from one RandomState) and are bit-exact
against it. Twin of reference/projects/ensembles/adaboost.py.
"""
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

_ADABOOST_PARAMS = {"n_estimators": [Interval(int, 1, None)],
                    "learning_rate": [Interval(float, 0.0, None, closed="neither")],
                    "estimator": [Options(None), Estimator],
                    "random_state": _TREE_PARAMS["random_state"]}


def weighted_bootstrap(weights, rng):
    """len(weights) row indices drawn with replacement, row i with probability weights[i]: uniform draws
    looked up in the normalised cumulative weights (RandomState.choice's draws, to the bit)."""
    cdf = np.cumsum(weights)
    cdf /= cdf[-1]
    return np.searchsorted(cdf, rng.random_sample(len(weights)), side="right")


class BaseWeightBoosting(Estimator):
    """The boosting loop both share; ``_boost`` fits one member and returns the new weights, its vote and
    its error (or None to stop, the member dropped)."""

    def fit(self, X, y, sample_weight=None):
        validate_params(self, self._constraints())
        X = check_X(X, self)
        self.n_features_in_ = X.shape[1]
        y = self._check_target(y, X.shape[0])
        weights = check_sample_weight(sample_weight, X.shape[0]).copy()
        weights /= weights.sum()
        rng = check_random_state(self.random_state)
        eps, zero = np.finfo(np.float64).eps, weights == 0.0
        self.estimators_ = []
        self.estimator_weights_ = np.zeros(self.n_estimators)
        self.estimator_errors_ = np.ones(self.n_estimators)
        for iboost in range(self.n_estimators):
            weights = np.clip(weights, a_min=eps, a_max=None)
            weights[zero] = 0.0
            boosted = self._boost(iboost, X, y, weights, rng)
            if boosted is None:
                break
            weights, self.estimator_weights_[iboost], self.estimator_errors_[iboost] = boosted
            if self.estimator_errors_[iboost] == 0:  # a perfect member: it alone decides
                break
            total = np.sum(weights)
            if not np.isfinite(total) or total <= 0:
                break
            if iboost < self.n_estimators - 1:
                weights /= total
        return self

    def _new_member(self, rng):
        """A fresh copy of the member, seeded from ``rng`` (one seed per member, in order), appended."""
        base = self.estimator or self._default_member()
        member = type(base)(**base.get_params())
        if "random_state" in member.get_params():
            member.random_state = rng.randint(np.iinfo(np.int32).max)
        self.estimators_.append(member)
        return member

    def _checked(self, X):
        check_fitted(self, "estimators_")
        return check_X(X, self, n_features=self.n_features_in_)

    @property
    def feature_importances_(self):
        """The members' MDI weighted by their votes."""
        check_fitted(self, "estimators_")
        total = 0
        for weight, member in zip(self.estimator_weights_, self.estimators_):
            total = total + weight * member.feature_importances_
        return total / self.estimator_weights_.sum()


class AdaBoostClassifier(BaseWeightBoosting):
    def _constraints(self):
        return _ADABOOST_PARAMS

    def __init__(self, estimator=None, n_estimators=50, learning_rate=1.0, random_state=None):
        self.estimator, self.n_estimators, self.learning_rate = estimator, n_estimators, learning_rate
        self.random_state = random_state

    def _default_member(self):
        return DecisionTreeClassifier(max_depth=1)

    def _check_target(self, y, n_samples):
        if y is None:
            raise ValueError("y: expected class labels, got None (requires y to be passed, but the target y is None)")
        self.classes_, labels = check_classes(y, n_samples)
        self.n_classes_ = len(self.classes_)
        return self.classes_[labels]  # 1-d, as the members return their predictions

    def _boost(self, iboost, X, y, weights, rng):
        member = self._new_member(rng)
        member.fit(X, y, sample_weight=weights)
        incorrect = member.predict(X) != y
        error = np.mean(np.average(incorrect, weights=weights, axis=0))
        if error <= 0:
            return weights, 1.0, 0.0
        n_classes = self.n_classes_
        if error >= 1.0 - 1.0 / n_classes:  # no better than chance: dropped, and boosting ends
            self.estimators_.pop()
            if not self.estimators_:
                raise ValueError(f"estimator: expected a first member better than chance, got a weighted error "
                                 f"of {error:.4g} (BaseClassifier in AdaBoostClassifier ensemble is worse than "
                                 f"random, ensemble can not be fit.)")
            return None
        alpha = self.learning_rate * (np.log((1.0 - error) / error) + np.log(n_classes - 1.0))
        if iboost < self.n_estimators - 1:
            weights = np.exp(np.log(weights) + alpha * incorrect * (weights > 0))  # only positive weights grow
        return weights, alpha, error

    def _votes(self, member, weight, X):
        """A member's vote (n, K): +alpha for the class it predicts, -alpha / (K - 1) for the others."""
        hit = (member.predict(X) == self.classes_[:, None]).T
        return np.where(hit, weight, -1 / (self.n_classes_ - 1) * weight)

    def _finish(self, votes, norm):
        if self.n_classes_ == 2:
            votes = votes / norm
            votes[:, 0] *= -1
            return votes.sum(axis=1)
        return votes / norm

    def decision_function(self, X):
        X = self._checked(X)
        votes = 0
        for member, weight in zip(self.estimators_, self.estimator_weights_):
            votes = votes + self._votes(member, weight, X)
        return self._finish(votes, self.estimator_weights_.sum())

    def staged_decision_function(self, X):
        X = self._checked(X)
        votes, norm = None, 0.0
        for member, weight in zip(self.estimators_, self.estimator_weights_):
            norm += weight
            vote = self._votes(member, weight, X)
            votes = vote if votes is None else votes + vote
            yield self._finish(votes, norm)

    def _labels(self, decision):
        return self.classes_.take(decision > 0 if self.n_classes_ == 2 else np.argmax(decision, axis=1), axis=0)

    def _proba(self, decision):
        """softmax(f / (K - 1)); for two classes f is the one score, read as (-f, f) / 2."""
        decision = np.vstack([-decision, decision]).T / 2 if self.n_classes_ == 2 else decision / (self.n_classes_ - 1)
        exps = np.exp(decision - np.max(decision, axis=1)[:, None])
        return exps / np.sum(exps, axis=1)[:, None]

    def predict(self, X):
        return self._labels(self.decision_function(X))

    def staged_predict(self, X):
        for decision in self.staged_decision_function(X):
            yield self._labels(decision)

    def predict_proba(self, X):
        return self._proba(self.decision_function(X))

    def staged_predict_proba(self, X):
        for decision in self.staged_decision_function(X):
            yield self._proba(decision)

    def score(self, X, y):
        return float(np.mean(self.predict(X) == np.asarray(y)))


class AdaBoostRegressor(BaseWeightBoosting):
    def _constraints(self):
        return _ADABOOST_PARAMS | {"loss": [Options("linear", "square", "exponential")]}

    def __init__(self, estimator=None, n_estimators=50, learning_rate=1.0, loss="linear", random_state=None):
        self.estimator, self.n_estimators, self.learning_rate = estimator, n_estimators, learning_rate
        self.loss, self.random_state = loss, random_state

    def _default_member(self):
        return DecisionTreeRegressor(max_depth=3)

    def _check_target(self, y, n_samples):
        return check_y(y, n_samples)

    def _boost(self, iboost, X, y, weights, rng):
        member = self._new_member(rng)
        rows = weighted_bootstrap(weights, rng)
        member.fit(X[rows], y[rows])
        positive = weights > 0
        errors = np.abs(member.predict(X) - y)[positive]  # (rows of positive weight,)
        largest = errors.max()
        if largest != 0:
            errors /= largest
        if self.loss == "square":
            errors **= 2
        elif self.loss == "exponential":
            errors = 1.0 - np.exp(-errors)
        error = (weights[positive] * errors).sum()
        if error <= 0:
            return weights, 1.0, 0.0
        if error >= 0.5:  # no better than chance: dropped (unless it is the only one), and boosting ends
            if len(self.estimators_) > 1:
                self.estimators_.pop()
            return None
        beta = error / (1.0 - error)
        if iboost < self.n_estimators - 1:
            weights[positive] *= np.power(beta, (1.0 - errors) * self.learning_rate)
        return weights, self.learning_rate * np.log(1.0 / beta), error

    def _median_predict(self, X, limit):
        """Each row's weighted median over the first ``limit`` members: the smallest prediction whose
        cumulative vote reaches half the total."""
        predictions = np.array([member.predict(X) for member in self.estimators_[:limit]]).T  # (n, members)
        order = np.argsort(predictions, axis=1)
        cumulative = np.cumsum(self.estimator_weights_[order], axis=1)
        median_index = (cumulative >= 0.5 * cumulative[:, -1][:, None]).argmax(axis=1)
        rows = np.arange(X.shape[0])
        return predictions[rows, order[rows, median_index]]

    def predict(self, X):
        X = self._checked(X)
        return self._median_predict(X, len(self.estimators_))

    def staged_predict(self, X):
        X = self._checked(X)
        for limit in range(1, len(self.estimators_) + 1):
            yield self._median_predict(X, limit)

    def score(self, X, y):
        return r2_score(np.asarray(y, dtype=np.float64), self.predict(X))
