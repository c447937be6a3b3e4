"""Bad input to Project 15 (kernels, GP, acquisitions, search spaces, the BO loop): each raises a
ValueError/TypeError that names the argument, what was expected and what came."""
import numpy as np
import pytest

from scratch.projects.bayesopt import gp, kernels, tuner
from scratch.projects.bayesopt.acquisition import UpperConfidenceBound
from scratch.projects.bayesopt.space import Categorical, Real, Space
from twins.parity import BadInput, assert_bad_input

X = np.linspace(0, 1, 4)[:, None]


def minimize(objective=lambda p: p["x"] ** 2, **kwargs):
    return lambda: tuner.minimize(objective, {"x": Real(0.0, 1.0)}, **{"n_calls": 4, "n_initial_points": 2,
                                                                         "rng": np.random.default_rng(0), **kwargs})


CASES = [
    BadInput("space bounds low >= high", lambda: Space({"x": Real(2.0, 1.0)}), ValueError, "space['x']",
             r"expected bounds low < high, got low=2.0, high=1.0"),
    BadInput("space bounds low == high", lambda: Space({"x": Real(1.0, 1.0)}), ValueError, "space['x']", r"low < high"),
    BadInput("log scale from zero", lambda: Space({"lr": Real(0.0, 1.0, log=True)}), ValueError, "space['lr']",
             r"expected low > 0 on a log scale"),
    BadInput("unknown search space type", lambda: Space({"x": (0.0, 1.0)}), TypeError, "space['x']",
             r"expected Real, Integer or Categorical, got tuple"),
    BadInput("one categorical choice", lambda: Space({"c": Categorical(("a",))}), ValueError, "space['c']",
             r"at least 2 distinct choices"),
    BadInput("NaN objective", minimize(lambda p: float("nan")), ValueError, "objective", r"expected a finite float, got nan"),
    BadInput("inf objective", minimize(lambda p: float("inf")), ValueError, "objective", r"expected a finite float, got inf"),
    BadInput("NaN first trial when skipping", minimize(lambda p: float("nan"), on_nonfinite="skip"), ValueError, "objective",
             r"finite float for the first trial"),
    BadInput("budget smaller than the initial design", minimize(n_calls=3, n_initial_points=5), ValueError, "n_calls",
             r"at least n_initial_points=5 evaluations, got 3"),
    BadInput("unknown acquisition", minimize(acquisition="thompson"), ValueError, "acquisition", r"got 'thompson'"),
    BadInput("unknown initial design", minimize(initial_design_method="grid"), ValueError, "initial_design",
             r"'sobol', 'lhs' or 'random', got 'grid'"),
    BadInput("unknown NaN policy", minimize(on_nonfinite="ignore"), ValueError, "on_nonfinite", r"got 'ignore'"),
    BadInput("global-state randomness", minimize(rng=0), TypeError, "rng", r"expected a numpy.random.Generator, got int"),
    BadInput("non-positive length scale", lambda: kernels.RBF(-1.0)(X), ValueError, "length_scale",
             r"expected positive finite values, got -1.0"),
    BadInput("a zero ARD length scale", lambda: kernels.Matern([1.0, 0.0])(np.zeros((2, 2))), ValueError, "length_scale",
             r"positive finite values, got \[1.0, 0.0\]"),
    BadInput("ARD length scales of the wrong count", lambda: kernels.RBF([1.0, 2.0, 3.0])(np.zeros((2, 2))), ValueError,
             "length_scale", r"expected 2 entries \(one per feature of X\), got 3"),
    BadInput("kernel bounds low >= high", lambda: kernels.RBF(1.0, (10.0, 1.0)).bounds, ValueError, "length_scale_bounds",
             r"0 < low < high"),
    BadInput("unsupported Matern nu", lambda: kernels.Matern(nu=1.0)(X), ValueError, "nu", r"0.5, 1.5 or 2.5, got 1.0"),
    BadInput("gradient of k(X, Y)", lambda: kernels.RBF()(X, X, eval_gradient=True), ValueError, "eval_gradient",
             r"expected False when Y is given"),
    BadInput("non-positive-definite kernel matrix", lambda: gp.GaussianProcessRegressor(
        kernels.DotProduct(1.0, "fixed"), alpha=0.0).fit(np.zeros((3, 1)), np.arange(3.0)), np.linalg.LinAlgError, "alpha",
             r"positive definite in fit, got one that is not"),
    BadInput("negative alpha", lambda: gp.GaussianProcessRegressor(alpha=-1.0).fit(X, X[:, 0]), ValueError, "alpha",
             r"non-negative"),
    BadInput("NaN in X", lambda: gp.GaussianProcessRegressor().fit(np.array([[np.nan]]), [1.0]), ValueError, "X",
             r"expected finite values"),
    BadInput("NaN in y", lambda: gp.GaussianProcessRegressor().fit(X, [1.0, np.nan, 0.0, 0.0]), ValueError, "y",
             r"finite targets"),
    BadInput("wrong feature count at predict", lambda: gp.GaussianProcessRegressor().fit(X, X[:, 0]).predict(np.zeros((2, 3))),
             ValueError, "X", r"expected 1 features \(as in fit\), got 3"),
    BadInput("a kernel from elsewhere", lambda: gp.GaussianProcessRegressor(kernel="rbf").fit(X, X[:, 0]), TypeError, "kernel",
             r"got 'rbf'"),
    BadInput("negative UCB beta", lambda: UpperConfidenceBound(None, -1.0), ValueError, "beta", r"finite number >= 0, got -1.0"),
]


@pytest.mark.parametrize("case", CASES, ids=[case.id for case in CASES])
def test_bad_input_is_named(case):
    assert_bad_input(case)
