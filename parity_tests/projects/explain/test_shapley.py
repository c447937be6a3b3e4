"""Shapley values: scratch against shap, and the axioms.

- exact enumeration equals shap's ``ExactExplainer`` (Independent masker over the whole
  background), single and multi-output models;
- KernelSHAP with every coalition enumerated (M <= 11) equals shap's ``KernelExplainer``
  (``l1_reg=False``) and equals exact Shapley; its coalitions carry the Shapley kernel's weights;
- LinearSHAP equals shap's ``LinearExplainer``;
- permutation sampling: exact for M <= 2 (a pair of antithetic orders covers both orders),
  equal to shap's ``PermutationExplainer`` there, close to exact with many orders;
- the axioms under hypothesis, for every estimator that holds them exactly: efficiency
  (sum of phi = f(x) - E f(background)), symmetry, dummy and linearity.
"""
import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from scipy.special import comb

from parity_tests.projects.explain.strategies import problems, smooth_model
from reference.projects.explain import shapley as ref
from scratch.projects.explain import shapley as scr
from twins.parity import assert_close, seeds, tolerance

EXACT = tolerance(np.float64, "forward")
SOLVED = tolerance(np.float64, "grad")  # KernelSHAP goes through a linear solve


def both(name, model, data, X, **kwargs):
    return (getattr(scr, name)(model, data).shap_values(X, **kwargs),
            getattr(ref, name)(model, data).shap_values(X, **kwargs))


@given(problems())
def test_exact_equals_shap_exact_explainer(shap_compiled, problem):
    model, data, X, _ = problem
    scratch, reference = both("ExactExplainer", model, data, X)
    assert_close(scratch, reference, "exact phi", *EXACT)
    assert_close(np.asarray(scr.ExactExplainer(model, data).expected_value),
                 np.asarray(ref.ExactExplainer(model, data).expected_value), "expected_value", *EXACT)


@given(problems(max_features=11, max_background=6))
def test_kernel_with_every_coalition_equals_shap_kernel_and_exact(problem):
    model, data, X, _ = problem
    scratch, reference = both("KernelExplainer", model, data, X)
    assert_close(scratch, reference, "kernel phi vs shap", *SOLVED)
    exact = scr.ExactExplainer(model, data).shap_values(X)
    assert_close(scratch, exact.reshape(scratch.shape), "kernel phi vs exact", *SOLVED)  # shap's Exact drops K = 1


@pytest.mark.parametrize("M", [2, 3, 4, 5, 8])
def test_enumerated_coalitions_carry_the_shapley_kernel(M):
    masks, weights = scr.kernel_coalitions(M, "auto", np.random.default_rng(0))
    size = masks.sum(axis=1)
    assert len(np.unique(masks, axis=0)) == len(masks) == 2**M - 2, "every proper coalition once"
    kernel = (M - 1) / (comb(M, size) * size * (M - size))
    assert_close(weights / weights.sum(), kernel / kernel.sum(), "kernel weights", *EXACT)


@given(st.integers(4, 9), seeds)
def test_sampled_kernel_pairs_complements_and_weighs_by_size(M, seed):
    """A budget short of 2^M - 2 but enough for size 1 and its complements: those whole, the rest
    drawn with their complements."""
    sizes = np.arange(1, M // 2 + 1)
    mass = (M - 1) / (sizes * (M - sizes)) * np.where(sizes <= (M - 1) // 2, 2.0, 1.0)
    budget = int(np.ceil(2 * M * mass.sum() / mass[0])) + 2
    masks, weights = scr.kernel_coalitions(M, budget, np.random.default_rng(seed))
    assert masks[:M].sum(axis=1).tolist() == [1] * M and masks[M:2 * M].sum(axis=1).tolist() == [M - 1] * M
    assert len(np.unique(masks, axis=0)) == len(masks) and (weights > 0).all()
    assert len(masks) < 2**M - 2 and not (masks.all(axis=1) | ~masks.any(axis=1)).any(), "never empty or full"
    assert_close(np.sum(weights[:2 * M]) / np.sum(weights), mass[0] / mass.sum(), "mass of the enumerated size", *EXACT)


@given(problems(max_features=6), st.sampled_from([None, 1, 3]))
def test_linear_equals_shap_linear_explainer(problem, K):
    _, data, X, rng = problem
    M = data.shape[1]
    coef, intercept = (rng.normal(size=M), 0.3) if K is None else (rng.normal(size=(K, M)), rng.normal(size=K))
    scratch, reference = both("LinearExplainer", (coef, intercept), data, X)
    assert_close(scratch, reference, "linear phi", *EXACT)
    assert_close(np.asarray(scr.LinearExplainer((coef, intercept), data).expected_value),
                 np.asarray(ref.LinearExplainer((coef, intercept), data).expected_value), "expected_value", *EXACT)
    linear = (lambda Z: Z @ coef + intercept) if K is None else (lambda Z: Z @ coef.T + intercept)
    exact = scr.ExactExplainer(linear, data).shap_values(X)
    assert_close(scratch, exact.reshape(scratch.shape), "linear phi vs exact", *SOLVED)


@given(problems(max_features=2), seeds)
def test_antithetic_permutations_are_exact_for_two_features(shap_compiled, problem, seed):
    model, data, X, _ = problem
    scratch = scr.PermutationExplainer(model, data).shap_values(X, npermutations=1, rng=np.random.default_rng(seed))
    assert_close(scratch, scr.ExactExplainer(model, data).shap_values(X), "permutation phi vs exact", *EXACT)
    reference = ref.PermutationExplainer(model, data).shap_values(X, npermutations=1, rng=np.random.default_rng(seed))
    assert_close(scratch, reference, "permutation phi vs shap", *EXACT)


def test_permutation_sampling_converges_to_exact():
    rng = np.random.default_rng(0)
    model, data, X = smooth_model(6, None, rng), rng.normal(size=(20, 6)), rng.normal(size=(3, 6))
    exact = scr.ExactExplainer(model, data).shap_values(X)
    errors = [np.abs(scr.PermutationExplainer(model, data).shap_values(X, p, np.random.default_rng(1)) - exact).max()
              for p in (2, 200)]
    assert errors[1] < errors[0] / 3 and errors[1] < 0.02 * np.abs(exact).max(), errors


# --- the axioms --------------------------------------------------------------------------------

def estimators(model, data, rng):
    """Every estimator that holds all four axioms exactly: exact, and KernelSHAP with every
    coalition (M <= 11 here). The permutation estimator holds efficiency and dummy exactly; it is
    checked for those below."""
    return {"exact": scr.ExactExplainer(model, data).shap_values,
            "kernel": scr.KernelExplainer(model, data).shap_values}


def gap(model, data, X):
    return np.asarray(model(X)) - np.asarray(model(data)).mean(axis=0)


@given(problems(max_features=6), seeds)
def test_efficiency(problem, seed):
    model, data, X, rng = problem
    explained = estimators(model, data, rng) | {
        "permutation": lambda X: scr.PermutationExplainer(model, data).shap_values(X, 3, np.random.default_rng(seed)),
        "kernel sampled": lambda X: scr.KernelExplainer(model, data).shap_values(X, 2 * data.shape[1] + 2,
                                                                                np.random.default_rng(seed))}
    for name, shap_values in explained.items():
        total = shap_values(X).sum(axis=1)
        assert_close(total, gap(model, data, X).reshape(total.shape), f"{name}: sum of phi", *SOLVED)


@given(problems(max_features=6), st.integers(0, 5), seeds)
def test_dummy_feature_gets_zero(problem, dummy, seed):
    """A feature the model never reads gets phi = 0, whatever its values."""
    model, data, X, rng = problem
    dummy = dummy % data.shape[1]
    blind = lambda Z: model(np.where(np.arange(Z.shape[1]) == dummy, 0.0, Z))
    explained = estimators(blind, data, rng) | {
        "permutation": lambda X: scr.PermutationExplainer(blind, data).shap_values(X, 3, np.random.default_rng(seed))}
    for name, shap_values in explained.items():
        assert_close(shap_values(X)[:, dummy], np.zeros_like(shap_values(X)[:, dummy]), f"{name}: dummy phi", *SOLVED)


@given(st.integers(2, 6), st.integers(1, 8), seeds)
def test_symmetric_features_share_equally(M, B, seed):
    """Features 0 and 1 enter the model symmetrically and have equal values in x and in every
    background row: their Shapley values are equal."""
    rng = np.random.default_rng(seed)
    inner = smooth_model(M, None, rng)
    model = lambda Z: inner(np.column_stack([Z[:, 0] + Z[:, 1], Z[:, 0] * Z[:, 1], Z[:, 2:]])[:, :M])
    data, X = rng.normal(size=(B, M)), rng.normal(size=(3, M))
    data[:, 1], X[:, 1] = data[:, 0], X[:, 0]
    for name, shap_values in estimators(model, data, rng).items():
        phi = shap_values(X)
        assert_close(phi[:, 0], phi[:, 1], f"{name}: phi of the twin features", *SOLVED)


@given(problems(max_features=6, outputs=(None,)), st.floats(-3, 3), st.floats(-3, 3))
def test_linearity_in_the_model(problem, a, b):
    model, data, X, rng = problem
    other = smooth_model(data.shape[1], None, rng)
    mixed = lambda Z: a * model(Z) + b * other(Z)
    for explainer in (scr.ExactExplainer, scr.KernelExplainer):
        phi = [explainer(f, data).shap_values(X) for f in (mixed, model, other)]
        assert_close(phi[0], a * phi[1] + b * phi[2], f"{explainer.__name__}: phi of a f + b g", *SOLVED)
