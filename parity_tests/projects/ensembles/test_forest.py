"""Forest and bagging parity: every tree, the predictions, the probabilities, the out-of-bag
scores and predictions, and the MDI importances equal scikit-learn's, to the bit.

The seeds are drawn in order from ``RandomState(random_state)`` and each bootstrap is the
``bincount`` of its draws (or, with sample weights, a draw in proportion to them), so tree i of
the scratch forest is tree i of scikit-learn's. Hypothesis draws the data, the number of trees,
the depth, ``max_features``, ``max_samples``, bootstrap, and the seed.
"""
import warnings

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from sklearn import datasets

from reference.projects.ensembles import forest as ref
from scratch.projects.ensembles import forest as scr

from .test_tree import assert_same_tree, tabular


def fit_both(kind, X, y, sample_weight=None, **params):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # too few trees for every row to be out of bag: both warn
        scratch = getattr(scr, kind)(**params).fit(X, y, sample_weight=sample_weight)
        reference = getattr(ref, kind)(**params).fit(X, y, sample_weight=sample_weight)
    return scratch, reference


def assert_same_ensemble(scratch, reference, X):
    assert len(scratch.estimators_) == len(reference.estimators_)
    for i, (a, b) in enumerate(zip(scratch.estimators_, reference.estimators_)):
        assert a.random_state == b.random_state, f"tree {i}: seed {a.random_state} against {b.random_state}"
        assert_same_tree(a, b)
    np.testing.assert_array_equal(scratch.predict(X), reference.predict(X))
    if hasattr(reference, "predict_proba"):
        np.testing.assert_array_equal(scratch.predict_proba(X), reference.predict_proba(X))
    if hasattr(reference, "feature_importances_"):
        np.testing.assert_array_equal(scratch.feature_importances_, reference.feature_importances_)
    for name in ("oob_score_", "oob_decision_function_", "oob_prediction_", "estimators_features_"):
        if hasattr(reference, name):
            np.testing.assert_array_equal(getattr(scratch, name), getattr(reference, name), err_msg=name)


ensemble_params = {
    "n_estimators": st.integers(1, 6), "max_depth": st.one_of(st.none(), st.integers(1, 5)),
    "bootstrap": st.booleans(), "random_state": st.integers(0, 2**31 - 1),
    "max_samples": st.one_of(st.none(), st.sampled_from([0.5, 0.9]))}


def consistent(params):
    if not params["bootstrap"]:
        params["max_samples"] = None
    params["oob_score"] = params["bootstrap"]
    return params


@given(data=tabular(), kind=st.sampled_from(["RandomForestClassifier", "ExtraTreesClassifier"]),
       max_features=st.sampled_from(["sqrt", None, 0.5]), criterion=st.sampled_from(["gini", "entropy"]),
       **ensemble_params)
def test_forest_classifiers_are_bit_exact(data, kind, max_features, criterion, **params):
    X, y, weights = data
    scratch, reference = fit_both(kind, X, y, weights, max_features=max_features, criterion=criterion,
                                  **consistent(params))
    assert_same_ensemble(scratch, reference, X)


@given(data=tabular(regression=True), max_features=st.sampled_from([1.0, 0.5]), **ensemble_params)
def test_random_forest_regressor_is_bit_exact(data, max_features, **params):
    X, y, weights = data
    scratch, reference = fit_both("RandomForestRegressor", X, y, weights, max_features=max_features,
                                  **consistent(params))
    assert_same_ensemble(scratch, reference, X)


@given(data=tabular(), regression=st.booleans(), max_features=st.sampled_from([1.0, 0.5, 1]),
       bootstrap_features=st.booleans(), n_estimators=st.integers(1, 6), bootstrap=st.booleans(),
       random_state=st.integers(0, 2**31 - 1))
def test_bagging_is_bit_exact(data, regression, max_features, **params):
    X, y, weights = data
    # scikit-learn's bagging cannot score a tree whose bootstrap drew every row (its out-of-bag set is empty)
    params["oob_score"] = params["bootstrap"] and len(y) >= 12
    if not params["bootstrap"]:
        weights = None  # a draw without replacement in proportion to weights with zeros fails in NumPy's choice
    if regression:
        y = np.asarray(y, dtype=np.float64) * 3.0
    kind = "BaggingRegressor" if regression else "BaggingClassifier"
    scratch, reference = fit_both(kind, X, y, weights, max_features=max_features, **params)
    for a, b in zip(scratch.estimators_, reference.estimators_):
        assert_same_tree(a, b)
    np.testing.assert_array_equal(scratch.predict(X), reference.predict(X))
    for name in ("oob_score_", "oob_prediction_"):
        if hasattr(reference, name):
            np.testing.assert_array_equal(getattr(scratch, name), getattr(reference, name), err_msg=name)
    if hasattr(reference, "oob_decision_function_"):
        np.testing.assert_array_equal(scratch.oob_decision_function_, reference.oob_decision_function_)
    if not regression:
        np.testing.assert_array_equal(scratch.predict_proba(X), reference.predict_proba(X))


@pytest.mark.parametrize("name", ["breast_cancer", "wine", "digits"])
def test_random_forest_on_real_data_is_bit_exact(name):
    X, y = getattr(datasets, f"load_{name}")(return_X_y=True)
    scratch, reference = fit_both("RandomForestClassifier", X[::2], y[::2], n_estimators=12, oob_score=True,
                                  random_state=7)
    assert_same_ensemble(scratch, reference, X[1::2])  # 36 trees in all


def test_extra_trees_and_regressor_on_real_data_are_bit_exact():
    X, y = datasets.load_wine(return_X_y=True)
    assert_same_ensemble(*fit_both("ExtraTreesClassifier", X, y, n_estimators=8, random_state=1), X)
    X, y = datasets.load_diabetes(return_X_y=True)
    assert_same_ensemble(*fit_both("RandomForestRegressor", X, y, n_estimators=4, max_depth=6, oob_score=True,
                                   random_state=3), X)
