"""The Bayesian-optimisation loop (Snoek et al. 2012; Shahriari et al. 2016): minimise an expensive
objective over a search space within a budget of evaluations.

1. an initial design: scrambled Sobol or Latin-hypercube points in the unit cube, from the injected rng;
2. every iteration: fit a GP (Matérn 5/2 with one length scale per coordinate, a signal variance
   and a noise term, normalize_y) to the points seen so far, hyperparameters by L-BFGS-B;
3. maximise the acquisition (log EI by default) from many starts: score random candidates, polish
   the best few with L-BFGS-B on the hand-written gradient, keep the best;
4. a batch of q > 1 points by the constant liar (Ginsbourger et al. 2010): after each pick, pretend
   its value is the liar (the best value so far for "min") and refit the GP at fixed hyperparameters.

Categorical dimensions are one-hot; the acquisition is maximised over their relaxation and the
point is decoded (argmax, rounding) before it is evaluated. NaN or inf objective values raise by
default (``on_nonfinite="raise"``); with "skip" the trial is kept in the history as failed and the
GP sees the worst finite value so far at that point, so that it is not proposed again.
Shared by the demo and the benchmarks; the peers (random search, Optuna TPE, scikit-optimize's
gp_minimize) run through the same objective in twins/demos/bayesopt.py.
"""
import time
import warnings
from dataclasses import dataclass, field

import numpy as np
from scipy.optimize import minimize as scipy_minimize
from scipy.stats import qmc

try:  # BLAS threads only slow the loop's small matrices down (and L-BFGS-B's own BLAS calls a lot)
    from threadpoolctl import threadpool_limits
except ImportError:  # pragma: no cover - threadpoolctl comes with SciPy's usual installs
    threadpool_limits = None

from scratch.plumbing import check_int
from scratch.projects.bayesopt.acquisition import ACQUISITIONS
from scratch.projects.bayesopt.gp import GaussianProcessRegressor
from scratch.projects.bayesopt.kernels import ConstantKernel, Matern, WhiteKernel
from scratch.projects.bayesopt.space import Space

LIARS = {"min": np.min, "mean": np.mean, "max": np.max}


@dataclass
class Trial:
    number: int
    params: dict
    value: float
    state: str  # "complete" or "failed"
    iteration: int  # 0 for the initial design
    seconds: float  # time to propose this point (GP fit + acquisition), 0 for the initial design


@dataclass
class Study:
    """The history of a run: trials in order, the best, and the best-so-far curve."""
    space: Space
    trials: list = field(default_factory=list)

    @property
    def values(self):
        return np.array([t.value for t in self.trials])

    @property
    def best_so_far(self):
        values = np.where(np.isfinite(self.values), self.values, np.inf)
        return np.minimum.accumulate(values)

    @property
    def best_trial(self):
        complete = [t for t in self.trials if t.state == "complete"]
        return min(complete, key=lambda t: t.value)

    @property
    def best_params(self):
        return self.best_trial.params

    @property
    def best_value(self):
        return self.best_trial.value


def default_kernel(n_dims):
    return (ConstantKernel(1.0, (1e-3, 1e3)) * Matern(np.full(n_dims, 0.5) if n_dims > 1 else 0.5, (1e-2, 1e2), nu=2.5)
            + WhiteKernel(1e-4, (1e-8, 1e-1)))


def initial_design(n_points, n_dims, method, rng):
    """n_points in [0, 1]^n_dims: scrambled Sobol, a Latin hypercube, or uniform."""
    if method == "sobol":
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # "balance properties need a power of 2": the budget decides n
            return qmc.Sobol(n_dims, scramble=True, rng=rng).random(n_points)
    if method == "lhs":
        return qmc.LatinHypercube(n_dims, rng=rng).random(n_points)
    if method == "random":
        return rng.uniform(size=(n_points, n_dims))
    raise ValueError(f"initial_design: expected 'sobol', 'lhs' or 'random', got {method!r}")


def fit_gp(X, y, rng, kernel=None, optimize=True):
    """A GP on unit-cube points; the kernel's hyperparameters fitted unless ``optimize`` is False."""
    gp = GaussianProcessRegressor(kernel or default_kernel(X.shape[1]), alpha=1e-8, normalize_y=True,
                                  n_restarts_optimizer=2 if optimize else 0,
                                  optimizer="fmin_l_bfgs_b" if optimize else None,
                                  random_state=int(rng.integers(2**31)))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # length scales at their bounds are common early on
        return gp.fit(X, y)


def maximize_acquisition(acquisition, n_dims, rng, n_candidates=512, n_starts=5):
    """argmax over [0, 1]^n_dims: the best of ``n_candidates`` random points seeds ``n_starts`` L-BFGS-B runs."""
    candidates = rng.uniform(size=(n_candidates, n_dims))
    scores = acquisition(candidates)
    starts = candidates[np.argsort(-scores)[:n_starts]]

    def negative(x):
        value, grad = acquisition.value_and_gradient(x[None, :])
        return -value[0], -grad[0]

    best_x, best_value = starts[0], scores.max()
    for start in starts:
        result = scipy_minimize(negative, start, jac=True, method="L-BFGS-B", bounds=[(0.0, 1.0)] * n_dims)
        if np.isfinite(result.fun) and -result.fun > best_value:
            best_x, best_value = result.x, -result.fun
    return best_x


def _make_acquisition(name, gp, y, beta):
    if name == "ucb":
        return ACQUISITIONS[name](gp, beta, maximize=False)
    return ACQUISITIONS[name](gp, y.min(), maximize=False)


def minimize(objective, space, n_calls, n_initial_points=10, acquisition="log_ei", batch_size=1,
             initial_design_method="sobol", liar="min", beta=2.0, on_nonfinite="raise", rng=None, callback=None):
    """Minimise ``objective(params: dict) -> float`` over ``space`` ({name: Real/Integer/Categorical})
    in ``n_calls`` evaluations, the first ``n_initial_points`` from the initial design. Returns a Study.
    The GP work runs with one BLAS thread (measured 3.6x faster on a loaded 2-core machine)."""
    if threadpool_limits is None:
        return _minimize(objective, space, n_calls, n_initial_points, acquisition, batch_size, initial_design_method,
                         liar, beta, on_nonfinite, rng, callback)
    with threadpool_limits(1, user_api="blas"):
        return _minimize(objective, space, n_calls, n_initial_points, acquisition, batch_size, initial_design_method,
                         liar, beta, on_nonfinite, rng, callback)


def _minimize(objective, space, n_calls, n_initial_points, acquisition, batch_size, initial_design_method, liar, beta,
              on_nonfinite, rng, callback):
    space = space if isinstance(space, Space) else Space(space)
    n_calls, n_initial_points = check_int(n_calls, "n_calls"), check_int(n_initial_points, "n_initial_points")
    batch_size = check_int(batch_size, "batch_size")
    if n_calls < n_initial_points:
        raise ValueError(f"n_calls: expected a budget of at least n_initial_points={n_initial_points} evaluations, "
                         f"got {n_calls}")
    if acquisition not in ACQUISITIONS:
        raise ValueError(f"acquisition: expected one of {sorted(ACQUISITIONS)}, got {acquisition!r}")
    if liar not in LIARS:
        raise ValueError(f"liar: expected one of {sorted(LIARS)}, got {liar!r}")
    if on_nonfinite not in ("raise", "skip"):
        raise ValueError(f"on_nonfinite: expected 'raise' or 'skip', got {on_nonfinite!r}")
    if not isinstance(rng, np.random.Generator):
        raise TypeError(f"rng: expected a numpy.random.Generator, got {type(rng).__name__}")
    study, points, targets = Study(space), [], []

    def evaluate(unit_points, iteration, seconds):
        for params, x in zip(space.decode(unit_points), space.round_trip(unit_points)):
            value = objective(params)
            value = float(value) if np.ndim(value) == 0 else value
            finite = isinstance(value, float) and np.isfinite(value)
            if not finite and on_nonfinite == "raise":
                raise ValueError(f"objective: expected a finite float, got {value!r} at {params} "
                                 f"(pass on_nonfinite='skip' to record it as a failed trial)")
            if not finite and not targets:
                raise ValueError(f"objective: expected a finite float for the first trial, got {value!r} at {params}")
            study.trials.append(Trial(len(study.trials), params, value if finite else float("nan"),
                                      "complete" if finite else "failed", iteration, seconds))
            points.append(x)
            targets.append(value if finite else max(targets))  # a failed point looks as bad as the worst one
            if callback is not None:
                callback(study)

    evaluate(initial_design(n_initial_points, space.n_dims, initial_design_method, rng), 0, 0.0)
    iteration = 0
    while len(study.trials) < n_calls:
        iteration += 1
        start = time.perf_counter()
        X, y = np.array(points), np.array(targets)
        gp = fit_gp(X, y, rng)
        batch = []
        for _ in range(min(batch_size, n_calls - len(study.trials))):
            x = space.round_trip(maximize_acquisition(_make_acquisition(acquisition, gp, y, beta), space.n_dims, rng)[None])
            batch.append(x[0])
            if len(batch) < batch_size:  # the liar: refit at fixed hyperparameters with the pending points
                X, y = np.vstack([X, x]), np.append(y, LIARS[liar](np.array(targets)))
                gp = fit_gp(X, y, rng, kernel=gp.kernel_, optimize=False)
        evaluate(np.array(batch), iteration, (time.perf_counter() - start) / len(batch))
    return study


def random_search(objective, space, n_calls, rng):
    """The baseline: ``n_calls`` uniform points of the unit cube, decoded."""
    space = space if isinstance(space, Space) else Space(space)
    study = Study(space)
    for params in space.decode(rng.uniform(size=(n_calls, space.n_dims))):
        study.trials.append(Trial(len(study.trials), params, float(objective(params)), "complete", 0, 0.0))
    return study
