"""scikit-learn's own estimator checks on the scratch LogisticRegression, MultinomialNB and (Project 15)
GaussianProcessRegressor.

The non-neural estimators follow scikit-learn's conventions (DESIGN.md), so scikit-learn's
``parametrize_with_checks`` is the judge. scratch never imports scikit-learn, so each estimator
runs behind a thin adapter: a BaseEstimator/ClassifierMixin subclass under the scratch class's
name (some checks key on it) with the same constructor, which delegates every call to the scratch
estimator and copies its fitted attributes across. The adapter validates nothing: what the checks
see is scratch's own conversion (as ``check_array`` does), its errors and its warnings. Two
translations only, because scratch cannot raise scikit-learn's own classes: scratch's
``NotFittedError`` is re-raised as scikit-learn's, and the tags declare what scratch accepts
(sparse X; non-negative X for naive Bayes, as scikit-learn's MultinomialNB declares; for the GP,
dense X only, multi-output y, and ``requires_fit = False`` because it predicts from the prior before
fit, exactly as scikit-learn's GaussianProcessRegressor declares).

Every check passes; none is listed as an expected failure (``EXPECTED_FAILED_CHECKS`` is empty).
scikit-learn itself skips one per estimator, ``check_array_api_input(array_namespace=numpy)``,
unless the environment sets SCIPY_ARRAY_API=1 before SciPy is imported (it then passes); the
estimators do not claim array-API support, so nothing is lost.
"""
import numpy as np
from sklearn.base import BaseEstimator, ClassifierMixin, RegressorMixin
from sklearn.exceptions import NotFittedError
from sklearn.utils.estimator_checks import parametrize_with_checks

from scratch.projects.bayesopt import gp as bayesopt_gp
from scratch.projects.nlp import linear_models
from scratch.text import NotFittedError as ScratchNotFittedError


class _Adapter(ClassifierMixin, BaseEstimator):
    """Delegates to ``scratch_class``; subclasses spell out its constructor for get_params."""

    scratch_class = None

    def _scratch(self):
        return getattr(self, "estimator_", None) or self.scratch_class(**self.get_params())

    def fit(self, X, y=None):
        estimator = self.scratch_class(**self.get_params()).fit(X, y)
        for name, value in vars(estimator).items():
            if name.endswith("_") and not name.startswith("_"):
                setattr(self, name, value)
        self.estimator_ = estimator
        return self

    def _call(self, method, *args):
        try:
            return getattr(self._scratch(), method)(*args)
        except ScratchNotFittedError as error:
            raise NotFittedError(str(error)) from error

    def predict(self, X):
        return self._call("predict", X)

    def predict_proba(self, X):
        return self._call("predict_proba", X)

    def predict_log_proba(self, X):
        return self._call("predict_log_proba", X)

    def score(self, X, y, sample_weight=None):
        if sample_weight is not None:
            raise TypeError("sample_weight: expected None, the scratch estimators take no sample weights")
        return self._call("score", X, y)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.sparse = True
        return tags


class LogisticRegression(_Adapter):
    scratch_class = linear_models.LogisticRegression

    def __init__(self, C=1.0, tol=1e-4, max_iter=100, fit_intercept=True):
        self.C, self.tol, self.max_iter, self.fit_intercept = C, tol, max_iter, fit_intercept

    def decision_function(self, X):
        return self._call("decision_function", X)


class MultinomialNB(_Adapter):
    scratch_class = linear_models.MultinomialNB

    def __init__(self, alpha=1.0, fit_prior=True, class_prior=None):
        self.alpha, self.fit_prior, self.class_prior = alpha, fit_prior, class_prior

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.positive_only = True
        tags.classifier_tags.poor_score = True  # as scikit-learn's own MultinomialNB declares
        return tags


class GaussianProcessRegressor(RegressorMixin, BaseEstimator):
    """Project 15's GP: a regressor (score is R^2, computed by scikit-learn from scratch's predict), with
    the adapter's fit and delegation but none of the classifier methods; dense X only. Like scikit-learn's
    own GP it predicts from the prior before fit, so it declares ``requires_fit = False`` as that one does."""
    scratch_class = bayesopt_gp.GaussianProcessRegressor
    _scratch, fit, _call = _Adapter._scratch, _Adapter.fit, _Adapter._call

    def __init__(self, kernel=None, alpha=1e-10, optimizer="fmin_l_bfgs_b", n_restarts_optimizer=0, normalize_y=False,
                 copy_X_train=True, n_targets=None, random_state=None):
        self.kernel, self.alpha, self.optimizer, self.n_restarts_optimizer = kernel, alpha, optimizer, n_restarts_optimizer
        self.normalize_y, self.copy_X_train, self.n_targets, self.random_state = normalize_y, copy_X_train, n_targets, random_state

    def predict(self, X, return_std=False, return_cov=False):
        return self._call("predict", X, return_std, return_cov)

    def sample_y(self, X, n_samples=1, random_state=0):
        return self._call("sample_y", X, n_samples, random_state)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.requires_fit = False
        tags.target_tags.multi_output = True
        return tags


EXPECTED_FAILED_CHECKS = {}


@parametrize_with_checks([LogisticRegression(), MultinomialNB(), GaussianProcessRegressor()],
                         expected_failed_checks=lambda estimator: EXPECTED_FAILED_CHECKS.get(type(estimator).__name__, {}))
def test_scikit_learn_estimator_checks(estimator, check):
    check(estimator)


def test_the_adapter_delegates():
    X, y = np.array([[1.0, 0.0], [0.0, 1.0], [1.0, 1.0]]), np.array([0, 1, 1])
    adapter = MultinomialNB(alpha=0.5).fit(X, y)
    np.testing.assert_array_equal(adapter.predict_proba(X), linear_models.MultinomialNB(alpha=0.5).fit(X, y).predict_proba(X))
    assert isinstance(adapter.estimator_, linear_models.MultinomialNB) and adapter.n_features_in_ == 2
