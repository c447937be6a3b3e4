"""CART parity: a scratch tree equals scikit-learn's node for node, to the bit.

Compared exactly (``np.array_equal``, no tolerance): node count, ``children_left``/``right``,
``feature``, ``threshold``, ``value``, ``impurity``, ``n_node_samples``,
``weighted_n_node_samples``, then predictions, probabilities and ``feature_importances_``.
Hypothesis draws the data (tied and continuous values, 2-4 classes), the depth,
``min_samples_*``, ``max_features``, ``max_leaf_nodes``, the splitter, the seed and integer sample
weights (zeros included). Integer weights and, for regression, integer targets keep every sum
exact, so scikit-learn's in-place sample order cannot change a bit; with fractional weights the
trees are compared separately, structure exactly and values to float64 rounding.
A fixed grid adds breast_cancer, wine and digits x 5 seeds x depths 3/8/None.
"""
import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from sklearn import datasets

from reference.projects.ensembles import tree as ref
from scratch.projects.ensembles import tree as scr
from twins.parity import assert_close

NODE_ARRAYS = ("children_left", "children_right", "feature", "threshold", "value", "impurity", "n_node_samples",
               "weighted_n_node_samples")


def assert_same_tree(scratch, reference):
    """Node for node; the failure names the array and the first node that differs."""
    a, b = scratch.tree_, reference.tree_
    assert a.node_count == b.node_count, f"node_count: scratch {a.node_count}, scikit-learn {b.node_count}"
    assert a.max_depth == b.max_depth, f"max_depth: scratch {a.max_depth}, scikit-learn {b.max_depth}"
    for name in NODE_ARRAYS:
        x, y = getattr(a, name), getattr(b, name)
        differ = (x != y).reshape(len(x), -1).any(axis=1)
        assert not differ.any(), (f"tree_.{name}: first differing node {np.argmax(differ)}: scratch "
                                  f"{x[np.argmax(differ)]}, scikit-learn {y[np.argmax(differ)]}")


def fit_both(kind, X, y, sample_weight=None, **params):
    scratch = getattr(scr, kind)(**params).fit(X, y, sample_weight=sample_weight)
    reference = getattr(ref, kind)(**params).fit(X, y, sample_weight=sample_weight)
    return scratch, reference


def assert_same_predictions(scratch, reference, X):
    np.testing.assert_array_equal(scratch.predict(X), reference.predict(X))
    np.testing.assert_array_equal(scratch.apply(X), reference.apply(X))
    np.testing.assert_array_equal(scratch.feature_importances_, reference.feature_importances_)
    if hasattr(reference, "predict_proba"):
        np.testing.assert_array_equal(scratch.predict_proba(X), reference.predict_proba(X))


@st.composite
def tabular(draw, regression=False):
    """(X, y, integer weights or None): ties from a small value grid or continuous draws."""
    n = draw(st.integers(2, 40))
    n_features = draw(st.integers(1, 5))
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    if draw(st.booleans()):
        X = rng.integers(0, draw(st.integers(1, 4)), (n, n_features)).astype(np.float64)  # many ties, constants
    else:
        X = rng.normal(size=(n, n_features)) * 10.0 ** draw(st.integers(-3, 3))
    if regression:
        y = rng.integers(-20, 20, n).astype(np.float64)  # integer targets keep the sums exact
    else:
        num_classes = draw(st.integers(2, 4))
        y = rng.integers(0, num_classes, n)
        y[:2] = [0, 1]  # at least two classes
    weights = None
    if draw(st.booleans()):
        weights = rng.integers(0, 4, n).astype(np.float64)
        weights[0] = 1.0
    return X, y, weights


tree_params = {
    "max_depth": st.one_of(st.none(), st.integers(1, 6)), "min_samples_split": st.integers(2, 6),
    "min_samples_leaf": st.integers(1, 4), "max_features": st.one_of(st.none(), st.integers(1, 5), st.just("sqrt")),
    "max_leaf_nodes": st.one_of(st.none(), st.integers(2, 9)), "splitter": st.sampled_from(["best", "random"]),
    "min_weight_fraction_leaf": st.sampled_from([0.0, 0.1]), "random_state": st.integers(0, 2**31 - 1)}


def clip_max_features(params, n_features):
    if isinstance(params["max_features"], int):
        params["max_features"] = min(params["max_features"], n_features)
    return params


@given(data=tabular(), criterion=st.sampled_from(["gini", "entropy", "log_loss"]), **tree_params)
def test_classifier_is_bit_exact(data, criterion, **params):
    X, y, weights = data
    params = clip_max_features(params, X.shape[1])
    scratch, reference = fit_both("DecisionTreeClassifier", X, y, weights, criterion=criterion, **params)
    assert_same_tree(scratch, reference)
    assert_same_predictions(scratch, reference, X)


@given(data=tabular(regression=True), **tree_params)
def test_regressor_is_bit_exact(data, **params):
    X, y, weights = data
    params = clip_max_features(params, X.shape[1])
    scratch, reference = fit_both("DecisionTreeRegressor", X, y, weights, **params)
    assert_same_tree(scratch, reference)
    assert_same_predictions(scratch, reference, X)


@given(seed=st.integers(0, 2**16), max_depth=st.integers(1, 4))
def test_fractional_weights_and_targets_agree_to_rounding(seed, max_depth):
    """Fractional sums follow scikit-learn's in-place sample order, so they agree to float64 rounding, and two
    features that cut a node's rows identically (or mirror-wise) tie up to that rounding: either may win, and the
    node ids of the children may swap. What must hold: the same number of nodes, the same grouping of the
    training rows into leaves, and the same predictions to rounding."""
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(30, 3))
    y, weights = rng.normal(size=30), rng.uniform(0.1, 2.0, 30)
    scratch, reference = fit_both("DecisionTreeRegressor", X, y, weights, max_depth=max_depth, random_state=seed)
    assert scratch.tree_.node_count == reference.tree_.node_count
    np.testing.assert_array_equal(leaf_groups(scratch.apply(X)), leaf_groups(reference.apply(X)),
                                  err_msg="the grouping of training rows into leaves")
    assert_close(scratch.predict(X), reference.predict(X), "predict(X)", rtol=1e-10, atol=1e-12)


def leaf_groups(leaves):
    """Leaf ids relabelled by first appearance, so two trees that group the rows alike compare equal."""
    _, first, inverse = np.unique(leaves, return_index=True, return_inverse=True)
    return np.argsort(np.argsort(first))[inverse]


@pytest.mark.parametrize("ccp_alpha", [0.01, 0.02, 0.1])
@pytest.mark.parametrize("max_leaf_nodes", [None, 12])
def test_cost_complexity_pruning_is_bit_exact(ccp_alpha, max_leaf_nodes):
    X, y = datasets.load_wine(return_X_y=True)
    scratch, reference = fit_both("DecisionTreeClassifier", X, y, ccp_alpha=ccp_alpha, max_leaf_nodes=max_leaf_nodes,
                                  random_state=0)
    assert reference.tree_.node_count < ref.DecisionTreeClassifier(random_state=0).fit(X, y).tree_.node_count
    assert_same_tree(scratch, reference)


GRID = [(name, seed, depth) for name in ("breast_cancer", "wine", "digits") for seed in range(5) for depth in (3, 8, None)]


@pytest.mark.parametrize("name,seed,max_depth", GRID)
def test_real_data_grid_is_bit_exact(name, seed, max_depth):
    """45 configurations; the README reports the count."""
    X, y = getattr(datasets, f"load_{name}")(return_X_y=True)
    scratch, reference = fit_both("DecisionTreeClassifier", X[::2], y[::2], max_depth=max_depth, random_state=seed,
                                  max_features="sqrt" if seed % 2 else None)
    assert_same_tree(scratch, reference)
    assert_same_predictions(scratch, reference, X[1::2])


def test_diabetes_regression_is_bit_exact():
    X, y = datasets.load_diabetes(return_X_y=True)  # integer targets: exact sums
    for seed in range(3):
        scratch, reference = fit_both("DecisionTreeRegressor", X, y, max_features=0.5, random_state=seed)
        assert_same_tree(scratch, reference)
