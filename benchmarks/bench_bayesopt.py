"""Benchmark cases for Bayesian optimisation (curriculum Project 15).

The "torch" column holds each case's peer: scikit-learn's GaussianProcessRegressor for the GP work
(the same kernel, data and start), BoTorch's analytic acquisitions (on the reference GP's torch
posterior, autograd for the gradient) for the acquisition work. Cases: the LML with its gradient
at n = 50 and 200 points (Matérn 5/2 ARD x constant + white noise, 4 features); a whole fit
(L-BFGS-B, no restarts) at n = 50; log EI with its x-gradient at 256 candidates. GPs compute in
float64 on both sides whatever ``dtype`` says.
"""
import warnings

import numpy as np

from reference.projects.bayesopt import acquisition as reference_acquisition
from reference.projects.bayesopt import gp as reference_gp
from reference.projects.bayesopt import kernels as reference_kernels
from scratch.projects.bayesopt import acquisition as scratch_acquisition
from scratch.projects.bayesopt import gp as scratch_gp
from scratch.projects.bayesopt import kernels as scratch_kernels

from .core import Case

N_FEATURES = 4


def _kernel(module):
    return (module.ConstantKernel(1.0) * module.Matern(np.full(N_FEATURES, 0.5), nu=2.5)
            + module.WhiteKernel(1e-3))


def _data(n, rng):
    X = rng.uniform(size=(n, N_FEATURES))
    return X, np.sin(6 * X).sum(1) + 0.05 * rng.standard_normal(n)


def _fitted(n, rng):
    X, y = _data(n, rng)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return (scratch_gp.GaussianProcessRegressor(_kernel(scratch_kernels), normalize_y=True).fit(X, y),
                reference_gp.GaussianProcessRegressor(_kernel(reference_kernels), normalize_y=True).fit(X, y), y)


def lml_case(n, rng):
    model, twin, _ = _fitted(n, rng)
    theta = model.kernel_.theta
    return Case("LML + gradient (Matern 5/2 ARD)", f"n={n}, d={N_FEATURES}",
                lambda: model.log_marginal_likelihood(theta, eval_gradient=True),
                lambda: twin.log_marginal_likelihood(theta, eval_gradient=True),
                note="peer: scikit-learn")


def fit_case(n, rng):
    X, y = _data(n, rng)

    def fit(module, kernels):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            module.GaussianProcessRegressor(_kernel(kernels), normalize_y=True).fit(X, y)

    return Case("GP fit (L-BFGS-B, no restarts)", f"n={n}, d={N_FEATURES}", lambda: fit(scratch_gp, scratch_kernels),
                lambda: fit(reference_gp, reference_kernels), note="peer: scikit-learn")


def acquisition_case(rng, m=256):
    model, twin, y = _fitted(50, rng)
    ours = scratch_acquisition.LogExpectedImprovement(model, y.min(), maximize=False)
    theirs = reference_acquisition.LogExpectedImprovement(twin, y.min(), maximize=False)
    X = rng.uniform(size=(m, N_FEATURES))
    return Case("log EI + x-gradient", f"{m} points, n=50", lambda: ours.value_and_gradient(X),
                lambda: theirs.value_and_gradient(X), note="peer: BoTorch (autograd)")


def cases(dtype=np.float64, quick=False, seed=0):
    """The BO project's benchmark cases; float64 whatever ``dtype`` (scikit-learn's GP is float64 only)."""
    rng = np.random.default_rng(seed)
    return [lml_case(50, rng), lml_case(200, rng), fit_case(50, rng), acquisition_case(rng)]
