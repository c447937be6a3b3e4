"""Project 15 kernels against scikit-learn's (K, dK/dtheta, theta, bounds, diag, composition) and
against torch autograd of the same formulas (dK/dtheta and dK/dX), under hypothesis-drawn kernel
trees and sizes, float64 (scikit-learn's GPs compute in float64 only, so there is no float32 tier)."""
import numpy as np
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from reference.projects.bayesopt.kernels import kernel_matrix
from scratch.projects.bayesopt import kernels as scratch_kernels
from twins.parity import assert_close, float_arrays, tolerance

from .strategies import kernel_specs, kernel_twins

FORWARD, GRAD = tolerance(np.float64, "forward"), tolerance(np.float64, "grad")


@settings(max_examples=25)
@given(data=st.data(), n=st.integers(1, 8), m=st.integers(1, 6), d=st.integers(1, 3))
def test_kernel_matches_scikit_learn(data, n, m, d):
    ours, theirs = kernel_twins(data.draw(kernel_specs(d), "kernel"))
    X, Y = data.draw(float_arrays((n, d), np.float64), "X"), data.draw(float_arrays((m, d), np.float64), "Y")
    assert [h.name for h in ours.hyperparameters] == [h.name for h in theirs.hyperparameters]
    assert_close(ours.theta, theirs.theta, "theta", 0, 0)
    assert_close(ours.bounds, theirs.bounds, "bounds", 0, 0)
    K, dK = ours(X, eval_gradient=True)
    K_ref, dK_ref = theirs(X, eval_gradient=True)
    assert_close(K, K_ref, "K(X, X)", *FORWARD)
    assert_close(dK, dK_ref, "dK/dtheta", *GRAD)
    assert_close(ours(X, Y), theirs(X, Y), "K(X, Y)", *FORWARD)
    assert_close(ours.diag(X), theirs.diag(X), "diag", *FORWARD)
    theta = ours.theta + data.draw(float_arrays(ours.theta.shape, np.float64, -1, 1), "step")
    assert_close(ours.clone_with_theta(theta)(X, Y), theirs.clone_with_theta(theta)(X, Y), "K at a new theta", *FORWARD)


@settings(max_examples=25)
@given(data=st.data(), n=st.integers(1, 7), m=st.integers(1, 5), d=st.integers(1, 3), seed=st.integers(0, 2**31))
def test_kernel_gradients_match_autograd(data, n, m, d, seed):
    """dK/dtheta and dK(X, Y)/dX against torch autograd of reference's kernel_matrix, each
    contracted with a random upstream gradient G."""
    ours, theirs = kernel_twins(data.draw(kernel_specs(d), "kernel"))
    rng = np.random.default_rng(seed)
    X, Y = rng.uniform(-2, 2, (n, d)), rng.uniform(-2, 2, (m, d))
    theta = torch.tensor(ours.theta, requires_grad=True)
    G = rng.standard_normal((n, n))
    _, dK = ours(X, eval_gradient=True)
    assert dK.shape == (n, n, ours.n_dims)
    if ours.n_dims:  # every hyperparameter fixed: nothing to differentiate
        (kernel_matrix(theirs, theta, torch.from_numpy(X)) * torch.from_numpy(G)).sum().backward()
        assert_close(np.einsum("ijk,ij->k", dK, G), theta.grad.numpy(), "dK/dtheta vs autograd", *GRAD)
    G = rng.standard_normal((n, m))
    dX = _autograd_x(lambda Xt: (kernel_matrix(theirs, torch.from_numpy(ours.theta), Xt, torch.from_numpy(Y)) * torch.from_numpy(G)).sum(), X)
    assert_close(np.einsum("ijd,ij->id", ours.gradient_x(X, Y), G), dX, "dK(X, Y)/dX vs autograd", *GRAD)
    dX = _autograd_x(lambda Xt: torch.diagonal(kernel_matrix(theirs, torch.from_numpy(ours.theta), Xt)).sum(), X)
    assert_close(ours.diag_gradient_x(X), dX, "d k(x, x)/dx vs autograd", *GRAD)


def _autograd_x(function, X):
    """d function(X) / dX by autograd; zeros where X does not enter (a constant kernel)."""
    Xt = torch.tensor(X, requires_grad=True)
    out = function(Xt)
    if not out.requires_grad:
        return np.zeros_like(X)
    grad, = torch.autograd.grad(out, Xt, allow_unused=True)
    return np.zeros_like(X) if grad is None else grad.numpy()


def test_composition_follows_scikit_learn():
    """Numbers become ConstantKernels on either side of + and *; hyperparameters are prefixed k1__/k2__."""
    kernel = 2.0 * scratch_kernels.RBF([1.0, 2.0]) + 0.5
    assert [h.name for h in kernel.hyperparameters] == ["k1__k1__constant_value", "k1__k2__length_scale", "k2__constant_value"]
    assert kernel.n_dims == 4 and kernel.bounds.shape == (4, 2)
    kernel.theta = np.log([3.0, 4.0, 5.0, 6.0])
    assert np.isclose(kernel.k1.k1.constant_value, 3.0) and np.allclose(kernel.k1.k2.length_scale, [4.0, 5.0])
    assert np.isclose(kernel.get_params()["k2__constant_value"], 6.0)
