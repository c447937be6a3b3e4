"""Gradient boosting parity: scratch GradientBoostingClassifier/Regressor against scikit-learn's,
tree for tree and to the bit: every node array of every stage's trees, ``train_score_``,
``oob_improvement_``, raw scores, probabilities, every stage of ``staged_*``, ``feature_importances_``
and, with early stopping, the number of stages kept.

Boosting fits its trees to fractional gradients, so every sum depends on its order; the scratch
regression splitter keeps scikit-learn's in-place sample order (``cart.swap_partition``), which is
determined when feature values are distinct. Hypothesis therefore draws continuous features (and
continuous targets, weights, learning rates, subsampling, depths, ``max_features``,
``min_samples_leaf``, ``max_leaf_nodes``, seeds) and asserts exact equality. With tied feature
values scikit-learn's order among the ties is its introsort's, not emulated: two features that cut
a node's rows identically can then win on the last bit on either side, so on tied data (diabetes)
the test asserts what must still hold: the same grouping of the training rows and the training
predictions to rounding.
"""
import re

import numpy as np
import pytest
from hypothesis import given, reject, settings
from hypothesis import strategies as st
from sklearn import datasets
from sklearn import tree as sklearn_tree

from reference.projects.ensembles import boosting as ref
from scratch.projects.ensembles import boosting as scr
from scratch.projects.ensembles import tree as scratch_tree
from scratch.projects.ensembles.cart import swap_partition
from twins.parity import assert_close

from .test_tree import assert_same_tree, leaf_groups


def fit_both(kind, X, y, sample_weight=None, **params):
    return fit_pair(getattr(scr, kind)(**params), getattr(ref, kind)(**params), X, y, sample_weight)


def fit_pair(scratch, reference, X, y, sample_weight=None):
    """Both fitted on the same data. Where subsampling leaves a stage's in-bag or out-of-bag rows all of
    weight 0, scikit-learn refuses (its tree's ValueError, or a ZeroDivisionError averaging the loss):
    scratch must refuse too, clearly, and the example ends there."""
    try:
        reference.fit(X, y, sample_weight=sample_weight)
    except (ZeroDivisionError, ValueError) as error:
        words = "Weights sum to zero" if isinstance(error, ZeroDivisionError) else re.escape(str(error))
        with pytest.raises(ValueError, match=rf"sample_weight: expected a positive total weight.*{words}"):
            scratch.fit(X, y, sample_weight=sample_weight)
        reject()
    return scratch.fit(X, y, sample_weight=sample_weight), reference


def assert_same_boosting(scratch, reference, X):
    assert scratch.estimators_.shape == reference.estimators_.shape, "estimators_ shape (stages, trees per stage)"
    for (i, k), tree in np.ndenumerate(scratch.estimators_):
        try:
            assert_same_tree(tree, reference.estimators_[i, k])
        except AssertionError as error:
            raise AssertionError(f"stage {i}, tree {k}: {error}") from None
    for name in ("train_score_", "oob_improvement_", "oob_scores_", "feature_importances_"):
        if hasattr(reference, name):
            np.testing.assert_array_equal(getattr(scratch, name), getattr(reference, name), err_msg=name)
    methods = ["predict", "staged_predict"]
    if hasattr(reference, "predict_proba"):
        methods += ["decision_function", "predict_proba", "staged_predict_proba", "staged_decision_function"]
    for method in methods:
        a, b = getattr(scratch, method)(X), getattr(reference, method)(X)
        if method.startswith("staged"):
            a, b = np.array(list(a)), np.array(list(b))
        np.testing.assert_array_equal(a, b, err_msg=method)


@st.composite
def continuous(draw, regression=False):
    """(X, y, weights or None) with distinct feature values, so scikit-learn's sample order is determined."""
    n = draw(st.integers(4, 60))
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    X = rng.normal(size=(n, draw(st.integers(1, 5)))) * 10.0 ** draw(st.integers(-2, 2))
    if regression:
        y = X[:, 0] * rng.normal() + rng.normal(size=n) * draw(st.sampled_from([0.1, 1.0, 10.0]))
    else:
        y = rng.integers(0, draw(st.integers(2, 4)), n)
        y[:2] = [0, 1]
    weights = None
    if draw(st.booleans()):
        weights = rng.uniform(0.2, 3.0, n) if draw(st.booleans()) else rng.integers(0, 3, n).astype(np.float64)
        weights[:2] = 1.0  # both classes keep weight
    return X, y, weights


boosting_params = {
    "n_estimators": st.integers(1, 8), "learning_rate": st.sampled_from([0.05, 0.1, 0.5, 1.0]),
    "subsample": st.sampled_from([1.0, 0.8, 0.5]), "max_depth": st.one_of(st.none(), st.integers(1, 4)),
    "max_features": st.sampled_from([None, 0.6, "sqrt"]), "min_samples_leaf": st.integers(1, 3),
    "max_leaf_nodes": st.one_of(st.none(), st.integers(2, 6)), "random_state": st.integers(0, 2**31 - 1)}


# each example fits up to 8 stages of up to 4 trees on both sides: a quarter of the profile's examples
FEWER = settings(max_examples=max(10, settings().max_examples // 4))


@FEWER
@given(data=continuous(), **boosting_params)
def test_classifier_is_bit_exact(data, **params):
    X, y, weights = data
    scratch, reference = fit_both("GradientBoostingClassifier", X, y, weights, **params)
    assert_same_boosting(scratch, reference, X)
    assert_same_boosting(scratch, reference, X[::-1] * 0.9 + 0.05)  # rows neither saw


@FEWER
@given(data=continuous(regression=True), loss=st.sampled_from(["squared_error", "absolute_error", "huber", "quantile"]),
       alpha=st.sampled_from([0.1, 0.5, 0.9]), **boosting_params)
def test_regressor_is_bit_exact(data, **params):
    """Every regression loss: squared error, and the robust ones whose leaves are refitted to weighted
    medians or quantiles of the residuals (Huber's delta re-estimated every stage)."""
    X, y, weights = data
    scratch, reference = fit_both("GradientBoostingRegressor", X, y, weights, **params)
    assert_same_boosting(scratch, reference, X)
    assert_same_boosting(scratch, reference, X[::-1] * 0.9 + 0.05)


@FEWER
@given(data=continuous(), **boosting_params)
def test_exponential_loss_is_bit_exact(data, **params):
    """AdaBoost's exponential loss (binary only): Newton leaves, half-logit link, P(y=1) = expit(2F)."""
    X, y, weights = data
    scratch, reference = fit_both("GradientBoostingClassifier", X, y % 2, weights, loss="exponential", **params)
    assert_same_boosting(scratch, reference, X)


@FEWER
@given(data=continuous(), regression=st.booleans(), first=st.integers(1, 4), more=st.integers(0, 4),
       subsample=st.sampled_from([1.0, 0.7]), loss=st.sampled_from([None, "huber"]),
       random_state=st.integers(0, 2**31 - 1))
def test_warm_start_goes_on_where_the_last_fit_stopped(data, regression, first, more, loss, **params):
    """Fit ``first`` stages, then ``first + more`` with warm_start: the same trees, scores and OOB
    improvements as scikit-learn's warm start, and as one cold fit of ``first + more`` stages."""
    X, y, weights = data
    kind = "GradientBoostingRegressor" if regression else "GradientBoostingClassifier"
    if regression:
        y = X[:, 0] + np.sin(3 * X[:, -1])
        params |= {"loss": loss} if loss else {}
    scratch, reference = fit_both(kind, X, y, weights, n_estimators=first, warm_start=True, **params)
    fit_pair(scratch.set_params(n_estimators=first + more), reference.set_params(n_estimators=first + more), X, y,
             weights)
    assert_same_boosting(scratch, reference, X)
    cold = getattr(scr, kind)(n_estimators=first + more, **params).fit(X, y, sample_weight=weights)
    assert_same_boosting(scratch, cold, X)


@FEWER
@given(data=continuous(), regression=st.booleans(), weighted=st.booleans(), n_estimators=st.integers(1, 5),
       subsample=st.sampled_from([1.0, 0.7]), random_state=st.integers(0, 2**31 - 1))
def test_init_estimator_starts_the_scores(data, regression, weighted, **params):
    """``init`` a depth-2 tree (scratch's for scratch, scikit-learn's for scikit-learn): fitted on the
    same rows and weights, its predictions (probabilities through the link) are stage 0 on both sides."""
    X, y, weights = data
    weights = weights if weighted else None
    if regression:
        y = X[:, 0] + np.sin(3 * X[:, -1])
    name = "DecisionTreeRegressor" if regression else "DecisionTreeClassifier"
    kind = "GradientBoostingRegressor" if regression else "GradientBoostingClassifier"
    scratch, reference = fit_pair(getattr(scr, kind)(init=getattr(scratch_tree, name)(max_depth=2, random_state=0), **params),
                                  getattr(ref, kind)(init=getattr(sklearn_tree, name)(max_depth=2, random_state=0), **params),
                                  X, y, weights)
    assert_same_boosting(scratch, reference, X)


@FEWER
@given(data=continuous(), regression=st.booleans(), n_iter_no_change=st.integers(1, 4),
       validation_fraction=st.sampled_from([0.1, 0.25]), random_state=st.integers(0, 2**31 - 1))
def test_early_stopping_keeps_the_same_stages(data, regression, **params):
    """The held-out split (stratified for classifiers) and the stopping rule as scikit-learn draws and applies them."""
    X, y, _ = data
    if regression:
        y = X[:, 0] + np.sin(3 * X[:, -1])
    kind = "GradientBoostingRegressor" if regression else "GradientBoostingClassifier"
    try:
        reference = getattr(ref, kind)(n_estimators=25, **params).fit(X, y)
    except ValueError as error:  # a class left out of the training split, or too few rows per class to stratify
        scratch_error = None
        try:
            getattr(scr, kind)(n_estimators=25, **params).fit(X, y)
        except ValueError as caught:
            scratch_error = caught
        assert scratch_error is not None, f"scikit-learn refused ({error}), scratch fitted"
        return
    scratch = getattr(scr, kind)(n_estimators=25, **params).fit(X, y)
    assert scratch.n_estimators_ == reference.n_estimators_
    assert_same_boosting(scratch, reference, X)


def test_breast_cancer_is_bit_exact():
    X, y = datasets.load_breast_cancer(return_X_y=True)
    scratch, reference = fit_both("GradientBoostingClassifier", X[::2], y[::2], n_estimators=15, subsample=0.8,
                                  random_state=0)
    assert_same_boosting(scratch, reference, X[1::2])


def test_tied_features_group_the_training_rows_alike():
    """diabetes' features take few values (sex two): ties, so order among them is introsort's (see the docstring)."""
    X, y = datasets.load_diabetes(return_X_y=True)
    scratch, reference = fit_both("GradientBoostingRegressor", X, y, n_estimators=10, random_state=0)
    for a, b in zip(scratch.estimators_.ravel(), reference.estimators_.ravel()):
        np.testing.assert_array_equal(leaf_groups(a.apply(X)), leaf_groups(b.apply(X)))
    assert_close(scratch.predict(X), reference.predict(X), "predict(X)", rtol=1e-12, atol=1e-10)
    assert_close(scratch.train_score_, reference.train_score_, "train_score_", rtol=1e-12, atol=0.0)


@given(left=st.lists(st.booleans(), min_size=1, max_size=30))
def test_swap_partition_is_scikit_learns_loop(left):
    """The vectorised reading of ``partition_samples_final`` equals the two-pointer loop, run here as written."""
    left = np.array(left)
    samples = list(np.random.default_rng(len(left)).permutation(len(left)))
    goes = dict(zip(samples, left))
    loop, p, end = samples.copy(), 0, len(samples) - 1
    while p < end:
        if goes[loop[p]]:
            p += 1
        else:
            loop[p], loop[end] = loop[end], loop[p]
            end -= 1
    np.testing.assert_array_equal(swap_partition(np.array(samples), left), loop)
