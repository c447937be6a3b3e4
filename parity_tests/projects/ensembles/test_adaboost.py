"""AdaBoost parity: scratch AdaBoostClassifier (SAMME) and AdaBoostRegressor (AdaBoost.R2) against
scikit-learn's, member for member and to the bit: every member's seed and node arrays, the votes,
the errors, ``feature_importances_`` and every output, staged ones included.

SAMME's fractional weights, like boosting's gradients, make the members' sums order-dependent, so
hypothesis draws distinct feature values (see test_boosting's docstring). AdaBoost.R2 fits each
member to a weighted bootstrap: repeated rows are exact copies, whose order among themselves
changes no sum, so it stays bit-exact on such data too.
"""
import numpy as np
from hypothesis import given
from hypothesis import strategies as st
from sklearn import datasets
from sklearn import tree as sklearn_tree

from reference.projects.ensembles import adaboost as ref_ada
from scratch.projects.ensembles import adaboost as scr_ada
from scratch.projects.ensembles import tree as scratch_tree

from .test_boosting import FEWER, continuous
from .test_tree import assert_same_tree


def assert_same_members(scratch, reference):
    assert len(scratch.estimators_) == len(reference.estimators_), "number of members kept"
    for i, (a, b) in enumerate(zip(scratch.estimators_, reference.estimators_)):
        assert a.random_state == b.random_state, f"member {i}: seed"
        try:
            assert_same_tree(a, b)
        except AssertionError as error:
            raise AssertionError(f"member {i}: {error}") from None
    for name in ("estimator_weights_", "estimator_errors_", "feature_importances_"):
        np.testing.assert_array_equal(getattr(scratch, name), getattr(reference, name), err_msg=name)


def assert_same_outputs(scratch, reference, X, methods):
    for method in methods:
        a, b = getattr(scratch, method)(X), getattr(reference, method)(X)
        if method.startswith("staged"):
            a, b = np.array(list(a)), np.array(list(b))
        np.testing.assert_array_equal(a, b, err_msg=method)


CLASSIFIER_OUTPUTS = ("predict", "decision_function", "predict_proba", "staged_predict", "staged_decision_function",
                      "staged_predict_proba")
REGRESSOR_OUTPUTS = ("predict", "staged_predict")


@FEWER
@given(data=continuous(), n_estimators=st.integers(1, 10), learning_rate=st.sampled_from([0.3, 1.0, 2.0]),
       max_depth=st.one_of(st.none(), st.integers(1, 3)), max_features=st.sampled_from([None, 1]),
       random_state=st.integers(0, 2**31 - 1))
def test_adaboost_samme_is_bit_exact(data, n_estimators, learning_rate, max_depth, max_features, random_state):
    """SAMME's fractional weights make the members' sums order-dependent: exact on distinct feature values."""
    X, y, weights = data
    labels = np.array(["a", "b", "c", "d"])[y]
    params = {"n_estimators": n_estimators, "learning_rate": learning_rate, "random_state": random_state}
    member = {"max_depth": max_depth, "max_features": max_features}
    scratch = scr_ada.AdaBoostClassifier(scratch_tree.DecisionTreeClassifier(**member), **params).fit(X, labels, weights)
    reference = ref_ada.AdaBoostClassifier(sklearn_tree.DecisionTreeClassifier(**member), **params).fit(X, labels, weights)
    assert_same_members(scratch, reference)
    for rows in (X, X[::-1] * 0.9 + 0.05):
        assert_same_outputs(scratch, reference, rows, CLASSIFIER_OUTPUTS)


def test_adaboost_stumps_on_breast_cancer():
    """Tied values (see the module's docstring) leave a few stumps' leaf fractions a bit apart; the votes, their
    weights and errors, and the probabilities stay equal to the bit."""
    X, y = datasets.load_breast_cancer(return_X_y=True)
    scratch = scr_ada.AdaBoostClassifier(n_estimators=20, random_state=0).fit(X[::2], y[::2])
    reference = ref_ada.AdaBoostClassifier(n_estimators=20, random_state=0).fit(X[::2], y[::2])
    for name in ("estimator_weights_", "estimator_errors_", "feature_importances_"):
        np.testing.assert_array_equal(getattr(scratch, name), getattr(reference, name), err_msg=name)
    np.testing.assert_array_equal(scratch.predict_proba(X[1::2]), reference.predict_proba(X[1::2]))
    np.testing.assert_array_equal(np.array(list(scratch.staged_predict(X[1::2]))),
                                  np.array(list(reference.staged_predict(X[1::2]))))


@FEWER
@given(data=continuous(regression=True), n_estimators=st.integers(1, 10), learning_rate=st.sampled_from([0.3, 1.0, 2.0]),
       loss=st.sampled_from(["linear", "square", "exponential"]), max_depth=st.one_of(st.none(), st.integers(1, 4)),
       random_state=st.integers(0, 2**31 - 1))
def test_adaboost_r2_is_bit_exact(data, n_estimators, learning_rate, loss, max_depth, random_state):
    """The weighted bootstraps (RandomState.choice's draws, written out), the members, beta and the votes,
    and the weighted median of the members' predictions at every stage."""
    X, y, weights = data
    params = {"n_estimators": n_estimators, "learning_rate": learning_rate, "loss": loss, "random_state": random_state}
    scratch = scr_ada.AdaBoostRegressor(scratch_tree.DecisionTreeRegressor(max_depth=max_depth), **params)
    reference = ref_ada.AdaBoostRegressor(sklearn_tree.DecisionTreeRegressor(max_depth=max_depth), **params)
    scratch.fit(X, y, weights), reference.fit(X, y, weights)
    assert_same_members(scratch, reference)
    for rows in (X, X[::-1] * 0.9 + 0.05):
        assert_same_outputs(scratch, reference, rows, REGRESSOR_OUTPUTS)


def test_adaboost_r2_on_diabetes():
    """The default members (depth-3 trees) on a real target; diabetes' tied features (see test_boosting) leave
    the members' seeds, votes and errors equal, and the predictions to rounding."""
    X, y = datasets.load_diabetes(return_X_y=True)
    scratch = scr_ada.AdaBoostRegressor(n_estimators=20, random_state=0).fit(X[::2], y[::2])
    reference = ref_ada.AdaBoostRegressor(n_estimators=20, random_state=0).fit(X[::2], y[::2])
    assert [m.random_state for m in scratch.estimators_] == [m.random_state for m in reference.estimators_]
    np.testing.assert_allclose(scratch.estimator_weights_, reference.estimator_weights_, rtol=1e-12)
    np.testing.assert_allclose(scratch.predict(X[1::2]), reference.predict(X[1::2]), rtol=1e-12)
    assert scratch.score(X[1::2], y[1::2]) > 0.3
