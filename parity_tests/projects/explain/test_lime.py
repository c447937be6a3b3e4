"""LIME tabular: scratch against lime's ``LimeTabularExplainer`` with the same ``random_state``:
the same features in the same order, equal weights, intercept, score (weighted R^2) and local
prediction, and the same bin names. Hypothesis draws the data (continuous columns, some with
ties, and integer-coded categorical ones), classification or regression, the discretiser, the
feature selection (auto, forward, highest weights, none), the number of features and samples."""
import numpy as np
from hypothesis import given
from hypothesis import strategies as st

from reference.projects.explain import lime_tabular as ref
from scratch.projects.explain import lime_tabular as scr
from twins.parity import assert_close, seeds, tolerance

EXACT = tolerance(np.float64, "grad")  # ridge solves on both sides


@st.composite
def lime_problems(draw):
    rng = np.random.default_rng(draw(seeds))
    n, F = draw(st.integers(20, 80)), draw(st.integers(2, 8))
    X = rng.normal(size=(n, F)) * rng.uniform(0.5, 5, F)
    categorical = sorted(draw(st.sets(st.integers(0, F - 1), max_size=2)))
    X[:, categorical] = rng.integers(0, 3, (n, len(categorical)))
    if draw(st.booleans()):
        X = np.round(X, 0)  # ties at the quartiles
    W = rng.normal(size=F)
    mode = draw(st.sampled_from(["classification", "regression"]))

    def predict(Z):
        p = 1 / (1 + np.exp(-np.tanh(Z) @ W))
        return np.column_stack([1 - p, p]) if mode == "classification" else np.tanh(Z) @ W + 0.3 * Z[:, 0] * Z[:, -1]
    settings = {"mode": mode, "categorical_features": categorical,
                "discretizer": draw(st.sampled_from(["quartile", "decile"])),
                "feature_selection": draw(st.sampled_from(["auto", "forward_selection", "highest_weights", "none"])),
                "random_state": draw(st.integers(0, 2**31 - 1))}
    call = {"num_features": draw(st.integers(1, F)), "num_samples": draw(st.integers(20, 300))}
    return X, X[draw(st.integers(0, n - 1))], predict, settings, call


@given(lime_problems())
def test_lime_tabular_equals_lime(problem):
    X, row, predict, settings, call = problem
    ours = scr.LimeTabularExplainer(X, **settings).explain_instance(row, predict, **call)
    theirs = ref.LimeTabularExplainer(X, **settings).explain_instance(row, predict, **call)
    for label in theirs.local_exp:
        features = [j for j, _ in theirs.local_exp[label]]
        assert [j for j, _ in ours.local_exp[label]] == features, f"label {label}: features chosen or ordered differently"
        assert_close(np.array([w for _, w in ours.local_exp[label]]), np.array([w for _, w in theirs.local_exp[label]]),
                     f"local_exp[{label}]", *EXACT)
    for label in theirs.intercept:
        assert_close(np.asarray(ours.intercept[label]), np.asarray(theirs.intercept[label]), f"intercept[{label}]", *EXACT)
    assert_close(np.asarray(ours.score), np.asarray(theirs.score), "score", *EXACT)
    assert_close(np.asarray(ours.local_pred), np.asarray(theirs.local_pred), "local_pred", *EXACT)
    assert [name for name, _ in ours.as_list(1)] == [name for name, _ in theirs.as_list(1)]
