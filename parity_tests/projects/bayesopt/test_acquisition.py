"""Project 15's acquisition functions against BoTorch's analytic ones on the same posterior
(values, and gradients in x by autograd through BoTorch), and against central differences;
the stable log EI far into the tail, where the naive log(EI) is -inf."""
import warnings

import numpy as np
import torch
from botorch.acquisition.analytic import _log_ei_helper
from hypothesis import given, settings
from hypothesis import strategies as st

from reference.projects.bayesopt import acquisition as reference_acquisition
from reference.projects.bayesopt import gp as reference_gp
from scratch.projects.bayesopt import acquisition as scratch_acquisition
from scratch.projects.bayesopt import gp as scratch_gp
from scratch.projects.bayesopt import kernels as scratch_kernels
from twins.parity import FINITE_DIFFERENCE, _central_differences, assert_close, tolerance

from .strategies import kernel_specs, kernel_twins

FORWARD, GRAD = tolerance(np.float64, "forward"), tolerance(np.float64, "grad")
names = st.sampled_from(sorted(scratch_acquisition.ACQUISITIONS))


def twins(data, n, d, seed):
    """Scratch and reference GPs on the same data and kernel (hyperparameters fixed at the drawn values)."""
    ours, theirs = kernel_twins(data.draw(kernel_specs(d), "kernel"))
    rng = np.random.default_rng(seed)
    X, normalize_y = rng.uniform(-2, 2, (n, d)), data.draw(st.booleans(), "normalize_y")
    y = np.sin(2 * X).sum(1) + rng.normal(0, 2)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model = scratch_gp.GaussianProcessRegressor(ours, alpha=1e-2, optimizer=None, normalize_y=normalize_y).fit(X, y)
        twin = reference_gp.GaussianProcessRegressor(theirs, alpha=1e-2, optimizer=None, normalize_y=normalize_y).fit(X, y)
    return model, twin, y, rng


def acquisitions(name, model, twin, y, maximize, beta):
    argument = beta if name == "ucb" else (y.max() if maximize else y.min())
    return (scratch_acquisition.ACQUISITIONS[name](model, argument, maximize=maximize),
            reference_acquisition.ACQUISITIONS[name](twin, argument, maximize=maximize))


@settings(max_examples=30)
@given(data=st.data(), name=names, n=st.integers(1, 8), d=st.integers(1, 3), seed=st.integers(0, 2**31),
       maximize=st.booleans(), beta=st.floats(0.0, 9.0))
def test_acquisition_matches_botorch(data, name, n, d, seed, maximize, beta):
    model, twin, y, rng = twins(data, n, d, seed)
    ours, theirs = acquisitions(name, model, twin, y, maximize, beta)
    X = rng.uniform(-2.5, 2.5, (6, d))
    value, grad = ours.value_and_gradient(X)
    value_ref, grad_ref = theirs.value_and_gradient(X)
    assert_close(value, value_ref, f"{name} value vs BoTorch", *FORWARD)
    assert_close(grad, grad_ref, f"{name} gradient in x vs BoTorch autograd", *GRAD)
    assert_close(ours(X), value, f"{name} __call__", 0, 0)


@settings(max_examples=20)
@given(data=st.data(), name=names, n=st.integers(1, 8), d=st.integers(1, 2), seed=st.integers(0, 2**31),
       maximize=st.booleans())
def test_acquisition_gradient_finite_differences(data, name, n, d, seed, maximize):
    model, twin, y, rng = twins(data, n, d, seed)
    ours, _ = acquisitions(name, model, twin, y, maximize, 2.0)
    X = rng.uniform(-2.5, 2.5, (3, d))
    _, grad = ours.value_and_gradient(X)
    numeric = _central_differences(lambda: ours(X).sum(), X, np.arange(X.size), FINITE_DIFFERENCE["eps"])
    scale = max(1.0, float(np.max(np.abs(numeric), initial=0.0)))
    assert_close(grad.ravel(), numeric, f"{name} gradient vs central differences", FINITE_DIFFERENCE["rtol"],
                 FINITE_DIFFERENCE["atol"] * scale)


def test_log_h_matches_botorch_over_the_whole_range():
    """log(phi(u) + u Phi(u)) from u = -1e8 (where EI itself underflows to 0) to 1e3, against BoTorch's helper."""
    u = np.concatenate([-np.logspace(8, -3, 200), np.linspace(-1.5, -0.5, 11), np.logspace(-3, 3, 50)])
    expected = _log_ei_helper(torch.from_numpy(u)).numpy()
    assert_close(scratch_acquisition.log_h(u), expected, "log h(u)", *FORWARD)
    assert np.all(np.isfinite(scratch_acquisition.log_h(u)))


def test_log_ei_stays_finite_where_ei_underflows():
    """Far from the data and far below the incumbent: EI is 0 in float64 and its log -inf; log EI is finite and
    its gradient still points uphill, towards the data."""
    model = scratch_gp.GaussianProcessRegressor(scratch_kernels.RBF(0.3, "fixed"), alpha=1e-6, optimizer=None).fit(
        np.array([[0.0]]), np.array([-50.0]))  # one point: the mean rises monotonically away from it
    x = np.array([[1.5]])
    ei = scratch_acquisition.ExpectedImprovement(model, -50.0, maximize=False)(x)
    log_ei, grad = scratch_acquisition.LogExpectedImprovement(model, -50.0, maximize=False).value_and_gradient(x)
    assert ei[0] == 0.0 and np.isfinite(log_ei[0]) and log_ei[0] < -500
    assert np.isfinite(grad[0, 0]) and grad[0, 0] < 0
