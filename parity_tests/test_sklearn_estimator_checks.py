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
import inspect

import numpy as np
from sklearn.base import BaseEstimator, ClassifierMixin, RegressorMixin
from sklearn.exceptions import NotFittedError
from sklearn.utils.estimator_checks import parametrize_with_checks
from sklearn.utils.metaestimators import available_if

from scratch.projects.bayesopt import gp as bayesopt_gp
from scratch.projects.ensembles import adaboost as ensembles_adaboost
from scratch.projects.ensembles import boosting as ensembles_boosting
from scratch.projects.ensembles import forest as ensembles_forest
from scratch.projects.ensembles import hist as ensembles_hist
from scratch.projects.ensembles import stacking as ensembles_stacking
from scratch.projects.ensembles import tree as ensembles_tree
from scratch.projects.ensembles import voting as ensembles_voting
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


# Project 14's trees, forests and bagging, through the same kind of adapter: one generic class per
# mixin, given the scratch class's constructor signature (so get_params/clone see its arguments),
# fit with sample_weight, and the fitted scratch estimator's public attributes copied across. Their
# tags: dense input only (sparse X is refused), no NaN (scratch trees have no missing-value support).


def _signature_init(scratch_class):
    signature = inspect.signature(scratch_class.__init__)

    def __init__(self, *args, **kwargs):
        bound = signature.bind(self, *args, **kwargs)
        bound.apply_defaults()
        for name, value in list(bound.arguments.items())[1:]:
            setattr(self, name, value)
    __init__.__signature__ = signature
    return __init__


class _EnsembleAdapter(BaseEstimator):
    scratch_class = None

    def fit(self, X, y=None, sample_weight=None):
        estimator = self.scratch_class(**self.get_params())
        if "sample_weight" in inspect.signature(estimator.fit).parameters:
            estimator.fit(X, y, sample_weight=sample_weight)
        elif sample_weight is not None:  # stacking takes none (scikit-learn's routes it to the members)
            raise TypeError("sample_weight: expected None, stacking takes no sample weights")
        else:
            estimator.fit(X, y)
        for name in dir(estimator):
            if name.endswith("_") and not name.startswith("_") and name != "feature_importances_":
                setattr(self, name, getattr(estimator, name))
        self.estimator_ = estimator
        return self

    def _call(self, method, *args):
        scratch = self.__dict__.get("estimator_") or self.scratch_class(**self.get_params())
        try:
            return getattr(scratch, method)(*args)
        except ScratchNotFittedError as error:
            raise NotFittedError(str(error)) from error

    def predict(self, X):
        return self._call("predict", X)

    @property
    def feature_importances_(self):
        return self._call("__getattribute__", "feature_importances_")


class _EnsembleClassifier(ClassifierMixin, _EnsembleAdapter):
    @available_if(lambda self: hasattr(self.scratch_class(**self.get_params()), "predict_proba"))
    def predict_proba(self, X):
        return self._call("predict_proba", X)


class _EnsembleRegressor(RegressorMixin, _EnsembleAdapter):
    pass


def _ensemble_adapter(scratch_class):
    base = _EnsembleClassifier if scratch_class.__name__.endswith("Classifier") else _EnsembleRegressor
    return type(scratch_class.__name__, (base,), {"scratch_class": scratch_class,
                                                  "__init__": _signature_init(scratch_class)})


# module-level names, so pickling finds the classes
DecisionTreeClassifier = _ensemble_adapter(ensembles_tree.DecisionTreeClassifier)
DecisionTreeRegressor = _ensemble_adapter(ensembles_tree.DecisionTreeRegressor)
RandomForestClassifier = _ensemble_adapter(ensembles_forest.RandomForestClassifier)
RandomForestRegressor = _ensemble_adapter(ensembles_forest.RandomForestRegressor)
ExtraTreesClassifier = _ensemble_adapter(ensembles_forest.ExtraTreesClassifier)
BaggingClassifier = _ensemble_adapter(ensembles_forest.BaggingClassifier)
BaggingRegressor = _ensemble_adapter(ensembles_forest.BaggingRegressor)
GradientBoostingClassifier = _ensemble_adapter(ensembles_boosting.GradientBoostingClassifier)
GradientBoostingRegressor = _ensemble_adapter(ensembles_boosting.GradientBoostingRegressor)
AdaBoostClassifier = _ensemble_adapter(ensembles_adaboost.AdaBoostClassifier)
AdaBoostRegressor = _ensemble_adapter(ensembles_adaboost.AdaBoostRegressor)
VotingClassifier = _ensemble_adapter(ensembles_voting.VotingClassifier)
StackingClassifier = _ensemble_adapter(ensembles_stacking.StackingClassifier)
StackingRegressor = _ensemble_adapter(ensembles_stacking.StackingRegressor)
HistGradientBoostingClassifier = _ensemble_adapter(ensembles_hist.HistGradientBoostingClassifier)
HistGradientBoostingRegressor = _ensemble_adapter(ensembles_hist.HistGradientBoostingRegressor)
_VOTERS = [("shallow", ensembles_tree.DecisionTreeClassifier(max_depth=2, random_state=0)),
           ("deep", ensembles_tree.DecisionTreeClassifier(random_state=0))]
ENSEMBLE_ESTIMATORS = [DecisionTreeClassifier(), DecisionTreeRegressor(), RandomForestClassifier(n_estimators=5),
                       RandomForestRegressor(n_estimators=5), ExtraTreesClassifier(n_estimators=5),
                       BaggingClassifier(n_estimators=5), BaggingRegressor(n_estimators=5),
                       GradientBoostingClassifier(n_estimators=5), GradientBoostingRegressor(n_estimators=5),
                       AdaBoostClassifier(n_estimators=5), AdaBoostRegressor(n_estimators=5),
                       VotingClassifier(_VOTERS), VotingClassifier(_VOTERS, voting="soft"),
                       StackingClassifier([(f"est{i}", ensembles_tree.DecisionTreeClassifier(max_depth=3, random_state=i))
                                           for i in (1, 2)], cv=3),
                       StackingRegressor([(f"est{i}", ensembles_tree.DecisionTreeRegressor(max_depth=3, random_state=i))
                                          for i in (1, 2)], cv=3),
                       HistGradientBoostingClassifier(max_iter=5), HistGradientBoostingRegressor(max_iter=5)]
# scikit-learn's own test instances, the histogram GBMs shortened as its forests are
# The one check scikit-learn's own forests and bagging are listed as failing (sklearn/utils/_test_common/
# instance_generator.py, PER_ESTIMATOR_XFAIL_CHECKS), failing here for the same reason: a bootstrap draws rows, so a
# weight of 2 is not the same as a repeated row (the draws differ), nor a weight of 0 as a removed row.
_BOOTSTRAP_WEIGHTS = {"check_sample_weight_equivalence_on_dense_data":
                      "sample_weight is not equivalent to removing/repeating samples (as scikit-learn's own)"}
ENSEMBLE_EXPECTED_FAILED_CHECKS = {name: _BOOTSTRAP_WEIGHTS for name in
                                   ("RandomForestClassifier", "RandomForestRegressor", "BaggingClassifier",
                                    "BaggingRegressor")}
# scikit-learn's own GradientBoostingRegressor(n_estimators=5) fails this check too when it is run the same way
# (check_sample_weight_equivalence_on_dense_data("G", GradientBoostingRegressor(n_estimators=5))): repeated rows
# tie, and a tie between two features broken by the last bit differs between the weighted and the repeated fit.
ENSEMBLE_EXPECTED_FAILED_CHECKS["GradientBoostingRegressor"] = {
    "check_sample_weight_equivalence_on_dense_data": "fails for scikit-learn's own GradientBoostingRegressor too"}


@parametrize_with_checks(ENSEMBLE_ESTIMATORS,
                         expected_failed_checks=lambda estimator: ENSEMBLE_EXPECTED_FAILED_CHECKS.get(
                             type(estimator).__name__, {}))
def test_scikit_learn_estimator_checks_on_ensembles(estimator, check):
    check(estimator)
