"""Differentially private SGD for a client (Abadi et al., 2016) and its Renyi-DP accountant.

- Per-sample gradients: for a Linear layer y = x W^T + b, sample n's gradient is the outer
  product dy_n x_n^T (and dy_n for the bias): the batch gradient dy^T x before the sum over n.
  Here they come from the layers' own backward passes, walked in reverse, with each Linear's
  cached input; Opacus computes the same with hooks on torch's autograd.
- ``privatize``: clip each sample's whole gradient to norm C, sum, add Gaussian noise of std
  sigma C, divide by the expected batch size q N (Poisson sampling draws each sample with
  probability q, so the batch size itself is random).
- ``RDPAccountant``: the Renyi divergence of the sampled Gaussian mechanism at each order alpha
  (Mironov, Talwar & Zhang, 2019), added over steps, turned into (epsilon, delta) with Balle et
  al. (2020)'s conversion, minimised over the orders.

Twin of reference/projects/federated/privacy.py (Opacus' GradSampleModule, DPOptimizer and RDPAccountant).
"""
import math

import numpy as np
from scipy import special

from scratch import nn
from scratch.plumbing import check_real, check_rng

# Renyi orders: Opacus' default grid, so both accountants minimise over the same alphas
DEFAULT_ALPHAS = [1 + x / 10.0 for x in range(1, 100)] + list(range(12, 64))


def per_sample_gradients(model, X, y):
    """{parameter name: (N, *shape)} gradients of each sample's cross-entropy, and the summed loss."""
    criterion = nn.CrossEntropyLoss(reduction="sum")  # the sum: sample n's gradient is its own loss's
    loss = criterion(model(X), y)
    dy = criterion.backward()  # (N, classes)
    grads, layers = {}, list(model.layers.named_children())
    for index, (name, layer) in enumerate(reversed(layers)):
        if isinstance(layer, nn.Linear):
            grads[f"layers.{name}.weight"] = np.einsum("no,ni->noi", dy, layer._input)  # (N, out, in): dy_n x_n^T
            grads[f"layers.{name}.bias"] = dy  # (N, out)
        dy = layer.backward(dy, input_grad=index < len(layers) - 1) if isinstance(layer, nn.Linear) else layer.backward(dy)
    model.zero_grad()  # the walk also accumulated the batch gradient in .grad, which DP-SGD never uses
    return {key: grads[key] for key, _ in model.named_parameters()}, float(loss)


def privatize(grad_samples, max_grad_norm, noise_multiplier, expected_batch_size, rng):
    """(sum_n clip_C(g_n) + N(0, (sigma C)^2)) / (q N): DP-SGD's gradient, clipped per sample over all parameters."""
    check_rng(rng, optional=False)
    norms = np.sqrt(sum(np.sum(g.reshape(len(g), -1) ** 2, axis=1) for g in grad_samples.values()))  # (N,)
    scale = np.minimum(1.0, max_grad_norm / (norms + 1e-6))  # (N,): samples within the norm keep their gradient
    return {name: (np.tensordot(scale.astype(g.dtype), g, axes=1)
                   + rng.normal(0, noise_multiplier * max_grad_norm, g.shape[1:]).astype(g.dtype)) / expected_batch_size
            for name, g in grad_samples.items()}


def dp_sgd_step(model, X, y, lr, max_grad_norm, noise_multiplier, expected_batch_size, rng):
    """One DP-SGD step on the batch (X, y): per-sample gradients, clipped, summed, noised, averaged,
    then w -= lr g. Returns the batch's mean loss."""
    grad_samples, loss = per_sample_gradients(model, X, y)
    grads = privatize(grad_samples, max_grad_norm, noise_multiplier, expected_batch_size, rng)
    for name, param in model.named_parameters():
        param.data -= lr * grads[name]
    return loss / max(len(X), 1)


def dp_steps_per_round(num_samples, config):
    """(sample rate q = B / n, DP-SGD steps in a client's round): an epoch is 1/q Poisson batches in expectation."""
    sample_rate = min(1.0, config.batch_size / num_samples)
    return sample_rate, config.local_epochs * max(1, round(1 / sample_rate))


def dp_local_update(model, X, y, global_state, config, rng, noise_multiplier, max_grad_norm):
    """A DP-FedAvg client's round: ``dp_steps_per_round`` steps of DP-SGD on Poisson batches of expected
    size ``config.batch_size``; returns (state, mean loss). The accountant counts the same steps."""
    model.load_state_dict(global_state)
    model.train()
    sample_rate, steps = dp_steps_per_round(len(X), config)
    losses = []
    for _ in range(steps):
        idx = poisson_sample(len(X), sample_rate, rng)
        if len(idx):  # an empty draw still spends privacy: the noise alone moves the weights
            losses.append(dp_sgd_step(model, X[idx], y[idx], config.lr, max_grad_norm, noise_multiplier, sample_rate * len(X), rng))
        else:
            for param in model.parameters():
                param.data -= config.lr * rng.normal(0, noise_multiplier * max_grad_norm, param.shape).astype(param.dtype) / (sample_rate * len(X))
    return model.state_dict(), float(np.mean(losses)) if losses else float("nan")


def poisson_sample(num_samples, sample_rate, rng):
    """The indices drawn into one batch, each sample independently with probability ``sample_rate``."""
    return np.flatnonzero(rng.random(num_samples) < sample_rate)


def _log_add(a, b):
    return np.logaddexp(a, b)


def _log_sub(a, b):
    """log(e^a - e^b) for a >= b."""
    return a if b == -np.inf else a + math.log1p(-math.exp(b - a))


def _log_erfc(x):
    return math.log(2) + special.log_ndtr(-x * math.sqrt(2))


def _log_moment_integer(q, sigma, alpha):
    """log A_alpha = log sum_k C(alpha, k) (1 - q)^(alpha - k) q^k exp((k^2 - k) / (2 sigma^2)), integer alpha."""
    k = np.arange(alpha + 1)
    log_binomial = special.gammaln(alpha + 1) - special.gammaln(k + 1) - special.gammaln(alpha - k + 1)
    terms = log_binomial + k * math.log(q) + (alpha - k) * math.log1p(-q) + (k * k - k) / (2 * sigma ** 2)
    return float(special.logsumexp(terms))


def _log_moment_fractional(q, sigma, alpha, tolerance=-30.0):
    """log A_alpha for fractional alpha: the two series of Mironov et al. (2019, section 3.3), split at
    z0 = sigma^2 log(1/q - 1) + 1/2, summed until both terms fall below e^tolerance."""
    log_a0 = log_a1 = -np.inf
    z0 = sigma ** 2 * math.log(1 / q - 1) + 0.5
    i = 0
    while True:
        coefficient = special.binom(alpha, i)  # the generalised binomial: its sign alternates past alpha
        log_coefficient = math.log(abs(coefficient))
        j = alpha - i
        log_t0 = log_coefficient + i * math.log(q) + j * math.log1p(-q)
        log_t1 = log_coefficient + j * math.log(q) + i * math.log1p(-q)
        log_e0 = math.log(0.5) + _log_erfc((i - z0) / (math.sqrt(2) * sigma))
        log_e1 = math.log(0.5) + _log_erfc((z0 - j) / (math.sqrt(2) * sigma))
        log_s0 = log_t0 + (i * i - i) / (2 * sigma ** 2) + log_e0
        log_s1 = log_t1 + (j * j - j) / (2 * sigma ** 2) + log_e1
        if coefficient > 0:
            log_a0, log_a1 = _log_add(log_a0, log_s0), _log_add(log_a1, log_s1)
        else:
            log_a0, log_a1 = _log_sub(log_a0, log_s0), _log_sub(log_a1, log_s1)
        i += 1
        if max(log_s0, log_s1) < tolerance:
            return float(_log_add(log_a0, log_a1))


def rdp(sample_rate, noise_multiplier, steps, alphas=DEFAULT_ALPHAS):
    """The Renyi divergence of ``steps`` sampled Gaussian mechanisms at each order: steps log(A_alpha) / (alpha - 1)."""
    q, sigma = sample_rate, noise_multiplier
    out = []
    for alpha in alphas:
        if q == 0:
            out.append(0.0)
        elif sigma == 0:
            out.append(math.inf)
        elif q == 1.0:
            out.append(alpha / (2 * sigma ** 2))  # the Gaussian mechanism itself
        elif float(alpha).is_integer():
            out.append(_log_moment_integer(q, sigma, int(alpha)) / (alpha - 1))
        else:
            out.append(_log_moment_fractional(q, sigma, alpha) / (alpha - 1))
    return np.array(out) * steps


def epsilon_from_rdp(rdp_values, alphas, delta):
    """(epsilon, best alpha): Balle et al. (2020)'s conversion eps = rdp - (log delta + log alpha) / (alpha - 1)
    + log((alpha - 1) / alpha), at the order that gives the smallest."""
    alphas = np.asarray(alphas, dtype=np.float64)
    eps = rdp_values - (math.log(delta) + np.log(alphas)) / (alphas - 1) + np.log((alphas - 1) / alphas)
    if np.isnan(eps).all():
        return math.inf, math.nan
    best = int(np.nanargmin(eps))
    return float(eps[best]), float(alphas[best])


class RDPAccountant:
    """The privacy spent by a run of DP-SGD steps: ``step`` once per step, ``get_epsilon(delta)`` at any time."""

    def __init__(self):
        self.history = []  # [noise_multiplier, sample_rate, steps], consecutive equal steps merged

    def step(self, *, noise_multiplier, sample_rate):
        noise_multiplier = check_real(noise_multiplier, "noise_multiplier", 0, math.inf, high_open=True)
        sample_rate = check_real(sample_rate, "sample_rate", 0, 1)
        if self.history and self.history[-1][:2] == [noise_multiplier, sample_rate]:
            self.history[-1][2] += 1
        else:
            self.history.append([noise_multiplier, sample_rate, 1])

    def get_epsilon(self, delta, alphas=DEFAULT_ALPHAS):
        delta = check_real(delta, "delta", 0, 1, low_open=True, high_open=True, expected="a probability in (0, 1)")
        if not self.history:
            return 0.0
        total = sum(rdp(q, sigma, steps, alphas) for sigma, q, steps in self.history)
        return epsilon_from_rdp(total, alphas, delta)[0]


def check_budget(accountant, target_epsilon, delta):
    """Refuse to train on once the budget is spent: a ValueError naming what was spent and the budget."""
    spent = accountant.get_epsilon(delta)
    if spent >= target_epsilon:
        raise ValueError(f"target_epsilon: expected a budget above the epsilon already spent ({spent:.4g} at delta={delta:g}), "
                         f"got {target_epsilon:g}")
    return spent
