"""Analytic acquisition functions of a GP posterior, each with its gradient in x so that it can be
maximised by L-BFGS-B from many starts (Jones et al. 1998; Ament et al. 2023 for log EI).

BoTorch's conventions, names and signatures: acquisitions are *maximised*; ``maximize=False``
scores improvement below ``best_f`` (minimisation, what the tuner does); the posterior variance is
clamped at 1e-12 before the square root; UCB is ``mean + sqrt(beta) * sigma`` (beta, not its root).
With u = (mean - best_f) / sigma (negated when minimising):

    EI = sigma h(u), h(u) = phi(u) + u Phi(u)        dEI/du = sigma Phi(u), dEI/dsigma = phi(u) at fixed mean
    log EI = log h(u) + log sigma                      computed without cancelling for u << 0
    PI = Phi(u)                                        dPI/du = phi(u)

``forward(mean, sigma)`` returns the value and its partial derivatives in mean and sigma;
``value_and_gradient(X)`` chains them through the model's posterior moments.
Twin of reference/projects/bayesopt/acquisition.py (BoTorch's analytic acquisitions).
"""
import math

import numpy as np
from scipy.special import erfcx, log_ndtr, ndtr

MIN_VARIANCE = 1e-12  # BoTorch's clamp in _mean_and_sigma
_LOG_SQRT_2PI = 0.5 * math.log(2 * math.pi)


def _phi(u):
    return np.exp(-0.5 * u ** 2 - _LOG_SQRT_2PI)


def log_h(u):
    """log(phi(u) + u Phi(u)) for any u: directly where u > -1; below, as
    log phi(u) + log(1 - exp(w)), w = log(|u| Phi(u) / phi(u)) = log(|u| erfcx(-u/sqrt 2) sqrt(pi/2)),
    which never subtracts two nearly equal numbers; beyond u = -1e6, w ~ -1/u^2 and
    log(1 - exp(w)) ~ -2 log|u|."""
    u = np.asarray(u, dtype=np.float64)
    upper = np.maximum(u, -1.0)
    lower = np.minimum(u, -1.0)
    clipped = np.maximum(lower, -1e6)
    w = np.log(erfcx(-clipped / math.sqrt(2)) * np.abs(clipped)) + 0.5 * math.log(math.pi / 2)
    log1mexp = np.where(w > -math.log(2), np.log(-np.expm1(w)), np.log1p(-np.exp(w)))
    lower_value = -0.5 * u ** 2 - _LOG_SQRT_2PI + np.where(u > -1e6, log1mexp, -2 * np.log(np.abs(lower)))
    return np.where(u > -1.0, np.log(_phi(upper) + upper * ndtr(upper)), lower_value)


class AnalyticAcquisitionFunction:
    """An acquisition of the posterior mean and standard deviation at single points x."""

    def __init__(self, model, best_f, maximize=True):
        self.model, self.best_f, self.maximize = model, float(best_f), bool(maximize)

    def _u(self, mean, sigma):
        u = (mean - self.best_f) / sigma
        return (u, 1.0) if self.maximize else (-u, -1.0)  # and du/dmean * sigma

    def __call__(self, X):
        return self.value_and_gradient(X, eval_gradient=False)

    def value_and_gradient(self, X, eval_gradient=True):
        """Values (m,) at the rows of X (m, d), and with ``eval_gradient`` their gradients (m, d)."""
        if not eval_gradient:
            mean, var = self.model.posterior_moments(X)
            return self.forward(mean, np.sqrt(np.maximum(var, MIN_VARIANCE)))[0]
        mean, var, dmean, dvar = self.model.posterior_moments(X, eval_gradient=True)
        sigma = np.sqrt(np.maximum(var, MIN_VARIANCE))
        value, dvalue_dmean, dvalue_dsigma = self.forward(mean, sigma)
        dsigma = np.where(var > MIN_VARIANCE, 0.5 / sigma, 0.0)[:, None] * dvar  # the clamp is flat below 1e-12
        return value, dvalue_dmean[:, None] * dmean + dvalue_dsigma[:, None] * dsigma


class ExpectedImprovement(AnalyticAcquisitionFunction):
    def forward(self, mean, sigma):
        u, sign = self._u(mean, sigma)
        cdf, pdf = ndtr(u), _phi(u)
        # dEI/dmean = sigma Phi(u) du/dmean = sign Phi(u); dEI/dsigma = h(u) - u Phi(u) = phi(u)
        return sigma * (pdf + u * cdf), sign * cdf, pdf


class LogExpectedImprovement(AnalyticAcquisitionFunction):
    def forward(self, mean, sigma):
        u, sign = self._u(mean, sigma)
        log_ei = log_h(u)
        ratio = np.exp(log_ndtr(u) - log_ei)  # h'(u) / h(u) = Phi(u) / h(u), in logs: ~|u| for u << 0
        return log_ei + np.log(sigma), sign * ratio / sigma, (1 - u * ratio) / sigma


class ProbabilityOfImprovement(AnalyticAcquisitionFunction):
    def forward(self, mean, sigma):
        u, sign = self._u(mean, sigma)
        pdf = _phi(u)
        return ndtr(u), sign * pdf / sigma, -u * pdf / sigma


class UpperConfidenceBound(AnalyticAcquisitionFunction):
    """(mean, or -mean when minimising) + sqrt(beta) sigma: an optimistic bound."""

    def __init__(self, model, beta, maximize=True):
        if not (np.isfinite(beta) and beta >= 0):
            raise ValueError(f"beta: expected a finite number >= 0, got {beta!r}")
        super().__init__(model, 0.0, maximize)
        self.beta = float(beta)

    def forward(self, mean, sigma):
        sign = 1.0 if self.maximize else -1.0
        return sign * mean + math.sqrt(self.beta) * sigma, np.full_like(mean, sign), np.full_like(sigma, math.sqrt(self.beta))


ACQUISITIONS = {"ei": ExpectedImprovement, "log_ei": LogExpectedImprovement, "pi": ProbabilityOfImprovement,
                "ucb": UpperConfidenceBound}
