"""Project 15's GaussianProcessRegressor against scikit-learn's (LML and its gradient, posterior
mean, std and covariance, samples, hyperparameters fitted from the same start), against torch
autograd (the LML gradient and the posterior moments' gradients in x) and against central
differences, for hypothesis-drawn kernel trees, sizes, alpha and normalize_y; float64 only."""
import warnings

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from reference.projects.bayesopt import gp as reference_gp
from scratch.projects.bayesopt import gp as scratch_gp
from scratch.projects.bayesopt import kernels
from twins.parity import FINITE_DIFFERENCE, _central_differences, assert_close, tolerance

from .strategies import kernel_specs, kernel_twins

FORWARD, GRAD, TRAIN = tolerance(np.float64, "forward"), tolerance(np.float64, "grad"), tolerance(np.float64, "train")


def fitted_twins(data, n, d, seed, optimizer=None, n_restarts=0, alphas=(1e-4, 1e-2, 0.1)):
    """Scratch and scikit-learn GPs fitted to the same data from the same drawn kernel.

    Central differences lose digits in proportion to the condition number of K + alpha I (a rank-two
    DotProduct kernel with alpha = 1e-4 makes alpha_ ~ 1e4 and the mean's rounding ~1e-12, which
    a step of 1e-6 turns into 1e-6), so the finite-difference tests draw alpha >= 1e-2."""
    ours, theirs = kernel_twins(data.draw(kernel_specs(d), "kernel"))
    alpha, normalize_y = data.draw(st.sampled_from(alphas), "alpha"), data.draw(st.booleans(), "normalize_y")
    rng = np.random.default_rng(seed)
    X = rng.uniform(-2, 2, (n, d))
    y = np.sin(2 * X).sum(1) + 0.1 * rng.standard_normal(n) + rng.normal(0, 3)
    kwargs = {"alpha": alpha, "normalize_y": normalize_y, "optimizer": optimizer, "n_restarts_optimizer": n_restarts,
              "random_state": seed % 1000}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # hyperparameters at their bounds, L-BFGS-B iteration limits: same on both
        model = scratch_gp.GaussianProcessRegressor(ours, **kwargs).fit(X, y)
        twin = reference_gp.GaussianProcessRegressor(theirs, **kwargs).fit(X, y)
    return model, twin, rng


@settings(max_examples=20)
@given(data=st.data(), n=st.integers(1, 10), d=st.integers(1, 3), seed=st.integers(0, 2**31))
def test_gp_matches_scikit_learn(data, n, d, seed):
    model, twin, rng = fitted_twins(data, n, d, seed)
    theta = model.kernel_.theta + rng.uniform(-0.5, 0.5, model.kernel_.n_dims)
    lml, grad = model.log_marginal_likelihood(theta, eval_gradient=True)
    lml_ref, grad_ref = twin.log_marginal_likelihood(theta, eval_gradient=True)
    assert_close(lml, lml_ref, "log marginal likelihood", *FORWARD)
    assert_close(grad, grad_ref, "LML gradient", *GRAD)
    assert_close(model.log_marginal_likelihood_value_, twin.log_marginal_likelihood_value_, "LML at fit", *FORWARD)
    X = rng.uniform(-2.5, 2.5, (5, d))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # negative variances clipped to 0: the same warning on both sides
        for name, ours, theirs in zip(("mean", "std"), model.predict(X, return_std=True), twin.predict(X, return_std=True)):
            assert_close(ours, theirs, f"posterior {name}", *FORWARD)
        assert_close(model.predict(X, return_cov=True)[1], twin.predict(X, return_cov=True)[1], "posterior cov", *FORWARD)
        assert_close(model.sample_y(X, 3, random_state=seed % 100), twin.sample_y(X, 3, random_state=seed % 100),
                     "sample_y", 1e-6, 1e-8)  # an SVD of a near-singular covariance: its rounding shows in the draws


@settings(max_examples=15)
@given(data=st.data(), n=st.integers(2, 10), d=st.integers(1, 2), seed=st.integers(0, 2**31), restarts=st.integers(0, 2))
def test_fitted_hyperparameters_match_scikit_learn(data, n, d, seed, restarts):
    """L-BFGS-B from the kernel's theta, then ``restarts`` draws from the same RandomState: the same optimum."""
    model, twin, _ = fitted_twins(data, n, d, seed, optimizer="fmin_l_bfgs_b", n_restarts=restarts)
    assert_close(model.kernel_.theta, twin.kernel_.theta, "fitted theta", *TRAIN)
    assert_close(model.log_marginal_likelihood_value_, twin.log_marginal_likelihood_value_, "fitted LML", *TRAIN)
    assert_close(model.alpha_, twin.alpha_, "alpha_", *TRAIN)


@settings(max_examples=20)
@given(data=st.data(), n=st.integers(1, 10), d=st.integers(1, 3), seed=st.integers(0, 2**31))
def test_lml_gradient_matches_autograd(data, n, d, seed):
    model, twin, rng = fitted_twins(data, n, d, seed)
    theta = model.kernel_.theta + rng.uniform(-0.5, 0.5, model.kernel_.n_dims)
    lml, grad = model.log_marginal_likelihood(theta, eval_gradient=True)
    lml_ref, grad_ref = twin.log_marginal_likelihood_autograd(theta)
    assert_close(lml, lml_ref, "LML vs torch", *FORWARD)
    assert_close(grad, grad_ref, "LML gradient vs torch autograd", *GRAD)


@settings(max_examples=15)
@given(data=st.data(), n=st.integers(1, 8), d=st.integers(1, 2), seed=st.integers(0, 2**31))
def test_lml_gradient_finite_differences(data, n, d, seed):
    """The hand-written gradient against central differences of the LML itself (no torch, no scikit-learn)."""
    model, _, rng = fitted_twins(data, n, d, seed, alphas=(1e-2, 0.1))
    theta = model.kernel_.theta + rng.uniform(-0.5, 0.5, model.kernel_.n_dims)
    _, grad = model.log_marginal_likelihood(theta, eval_gradient=True)
    numeric = _central_differences(lambda: model.log_marginal_likelihood(theta), theta, np.arange(theta.size),
                                   FINITE_DIFFERENCE["eps"])
    scale = max(1.0, float(np.max(np.abs(numeric), initial=0.0)))
    assert_close(grad, numeric, "LML gradient vs central differences", FINITE_DIFFERENCE["rtol"], FINITE_DIFFERENCE["atol"] * scale)


@settings(max_examples=20)
@given(data=st.data(), n=st.integers(1, 10), d=st.integers(1, 3), seed=st.integers(0, 2**31))
def test_posterior_moments_and_gradients_match_autograd(data, n, d, seed):
    model, twin, rng = fitted_twins(data, n, d, seed)
    X = rng.uniform(-2.5, 2.5, (4, d))
    for name, ours, theirs in zip(("mean", "var", "dmean/dx", "dvar/dx"), model.posterior_moments(X, eval_gradient=True),
                                  twin.posterior_moments(X, eval_gradient=True)):
        assert_close(ours, theirs, f"posterior {name} vs torch", *(FORWARD if name in ("mean", "var") else GRAD))
    mean, _std = twin.predict(X, return_std=True)
    assert_close(model.posterior_moments(X)[0], mean, "posterior_moments mean vs predict", *FORWARD)


@settings(max_examples=15)
@given(data=st.data(), n=st.integers(1, 8), d=st.integers(1, 2), seed=st.integers(0, 2**31))
def test_posterior_gradients_finite_differences(data, n, d, seed):
    model, _, rng = fitted_twins(data, n, d, seed, alphas=(1e-2, 0.1))
    X = rng.uniform(-2.5, 2.5, (3, d))
    _, _, dmean, dvar = model.posterior_moments(X, eval_gradient=True)
    for index, (name, analytic) in enumerate((("mean", dmean), ("var", dvar))):
        numeric = _central_differences(lambda index=index: model.posterior_moments(X)[index].sum(), X, np.arange(X.size),
                                       FINITE_DIFFERENCE["eps"])
        scale = max(1.0, float(np.max(np.abs(numeric), initial=0.0)))
        assert_close(analytic.ravel(), numeric, f"d{name}/dx vs central differences", FINITE_DIFFERENCE["rtol"],
                     FINITE_DIFFERENCE["atol"] * scale)


def test_default_kernel_and_prior_follow_scikit_learn():
    X = np.linspace(0, 6, 5)[:, None]  # spaced out: K of the default RBF(1.0) is well conditioned
    model, twin = scratch_gp.GaussianProcessRegressor(), reference_gp.GaussianProcessRegressor()
    for ours, theirs in zip(model.predict(X, return_cov=True), twin.predict(X, return_cov=True)):
        assert_close(ours, theirs, "prior", *FORWARD)
    y = np.sin(6 * X[:, 0])
    assert_close(model.fit(X, y).predict(X), twin.fit(X, y).predict(X), "default kernel fit", *FORWARD)
    assert model.kernel_.n_dims == 2  # C() * RBF(), both free


def test_a_singular_kernel_matrix_is_named():
    X = np.zeros((3, 1))  # three copies of one point and no noise: K is rank one
    with pytest.raises(np.linalg.LinAlgError, match="alpha: expected a kernel matrix K \\+ alpha I that is positive definite"):
        scratch_gp.GaussianProcessRegressor(kernels.DotProduct(1.0, "fixed"), alpha=0.0).fit(X, np.arange(3.0))
