"""Gradient attributions on scratch networks: which input entries move a class's logit.

Each method reads the input gradient that every scratch ``backward`` returns, with a one-hot
upstream gradient on the ``target`` logit:
- ``Saliency`` (Simonyan et al. 2014): |d logit / d x|;
- ``InputXGradient``: x * d logit / d x;
- ``IntegratedGradients`` (Sundararajan et al. 2017): (x - x') times the gradient averaged along
  the straight path from a baseline x' to x, by quadrature (Gauss-Legendre by default); its
  attributions add up to logit(x) - logit(x') as the steps grow (completeness);
- ``NoiseTunnel`` with ``nt_type="smoothgrad"`` (Smilkovtiv et al. 2017): the mean of another
  method's attributions over noisy copies x + N(0, stdevs^2).
Every path point and noisy copy goes through the network in one batch. The classes take
Captum's names and arguments. Twin of reference/projects/explain/attribution.py (Captum on the
torch twin). Captum rounds its quadrature weights to float32 and draws its noise from torch:
scratch keeps float64 weights and takes the noise as an argument (``noise``), as the rest of
the project injects randomness.
"""
import numpy as np

RIEMANN = ("riemann_left", "riemann_right", "riemann_middle", "riemann_trapezoid")


def input_gradient(model, X, target):
    """d model(X)[i, target[i]] / d X[i] for every row, from one forward and one backward."""
    if not callable(getattr(model, "backward", None)):
        raise TypeError(f"forward_func: expected a scratch module whose backward returns the input gradient, got "
                        f"{type(model).__name__} without a backward")
    y = model(X)  # (N, K)
    target = np.broadcast_to(np.asarray(target), (len(X),))
    if y.ndim != 2 or not np.issubdtype(target.dtype, np.integer) or (target < 0).any() or (target >= y.shape[1]).any():
        raise ValueError(f"target: expected class indices in [0, {y.shape[-1]}) for outputs of shape {y.shape}, "
                         f"got {np.asarray(target).tolist() if target.size < 10 else target}")
    dy = np.zeros_like(y)
    dy[np.arange(len(X)), target] = 1.0
    dX = model.backward(dy)
    model.zero_grad()  # attributions leave no parameter gradients behind
    if dX is None:
        raise TypeError(f"forward_func: expected backward to return the input gradient, got None from "
                        f"{type(model).__name__} (its input has no gradient: token ids?)")
    return dX


def quadrature(n_steps, method):
    """(step sizes, alphas): the points along the path and their weights, as Captum places them."""
    if method == "gausslegendre":
        points, weights = np.polynomial.legendre.leggauss(n_steps)
        return weights / 2, (points + 1) / 2
    if method not in RIEMANN:
        raise ValueError(f"method: expected 'gausslegendre' or one of {RIEMANN}, got {method!r}")
    if n_steps < 2:
        raise ValueError(f"n_steps: expected at least 2 for {method}, got {n_steps}")
    steps = np.full(n_steps, 1.0 / n_steps)
    if method == "riemann_trapezoid":
        steps[[0, -1]] /= 2
        return steps, np.linspace(0, 1, n_steps)
    start = {"riemann_left": 0.0, "riemann_middle": 0.5, "riemann_right": 1.0}[method]
    return steps, (np.arange(n_steps) + start) / n_steps


class Saliency:
    def __init__(self, forward_func):
        self.forward_func = forward_func

    def attribute(self, inputs, target=None, abs=True):
        grad = input_gradient(self.forward_func, inputs, target)
        return np.abs(grad) if abs else grad


class InputXGradient:
    def __init__(self, forward_func):
        self.forward_func = forward_func

    def attribute(self, inputs, target=None):
        return inputs * input_gradient(self.forward_func, inputs, target)


class IntegratedGradients:
    def __init__(self, forward_func):
        self.forward_func = forward_func

    def attribute(self, inputs, baselines=None, target=None, n_steps=50, method="gausslegendre",
                  return_convergence_delta=False):
        if not np.issubdtype(np.asarray(inputs).dtype, np.floating):
            raise TypeError(f"inputs: expected floating-point inputs to interpolate from the baseline, got "
                            f"{np.asarray(inputs).dtype} (ids or counts have no path and no input gradient)")
        if not isinstance(n_steps, (int, np.integer)) or n_steps < 1:
            raise ValueError(f"n_steps: expected an int >= 1, got {n_steps!r}")
        baselines = np.zeros_like(inputs) if baselines is None else np.broadcast_to(baselines, inputs.shape)
        steps, alphas = quadrature(n_steps, method)
        alphas = alphas.reshape((-1,) + (1,) * inputs.ndim)  # (S, 1, ...)
        path = (baselines + alphas * (inputs - baselines)).astype(inputs.dtype)  # (S, N, ...): step k of every row
        targets = np.tile(np.broadcast_to(np.asarray(target), (len(inputs),)), n_steps)
        grads = input_gradient(self.forward_func, path.reshape((-1,) + inputs.shape[1:]), targets)  # (S N, ...)
        mean_grad = np.tensordot(steps, grads.reshape(path.shape), axes=1).astype(inputs.dtype)  # (N, ...)
        attributions = (inputs - baselines) * mean_grad
        if not return_convergence_delta:
            return attributions
        return attributions, self.convergence_delta(attributions, baselines, inputs, target)

    def convergence_delta(self, attributions, baselines, inputs, target):
        """Completeness's gap: sum of attributions - (logit(x) - logit(x')), per row."""
        rows, target = np.arange(len(inputs)), np.broadcast_to(np.asarray(target), (len(inputs),))
        gap = self.forward_func(inputs)[rows, target] - self.forward_func(baselines)[rows, target]
        return attributions.reshape(len(inputs), -1).sum(axis=1) - gap


class NoiseTunnel:
    def __init__(self, attribution_method):
        self.attribution_method = attribution_method

    def attribute(self, inputs, nt_type="smoothgrad", nt_samples=5, stdevs=1.0, noise=None, rng=None, **kwargs):
        """The mean attribution over ``nt_samples`` noisy copies of each row; ``noise`` (N nt_samples, ...),
        copy j of row i at i nt_samples + j, or drawn from ``rng``."""
        if nt_type != "smoothgrad":
            raise ValueError(f"nt_type: expected 'smoothgrad', got {nt_type!r}")
        shape = (len(inputs) * nt_samples,) + inputs.shape[1:]
        if noise is None:
            noise = (np.random.default_rng() if rng is None else rng).normal(0.0, stdevs, shape)
        if noise.shape != shape:
            raise ValueError(f"noise: expected shape {shape} (rows x nt_samples, ...), got {noise.shape}")
        noisy = np.repeat(inputs, nt_samples, axis=0) + noise.astype(inputs.dtype)  # each row's copies side by side
        if "target" in kwargs:
            kwargs["target"] = np.repeat(np.broadcast_to(np.asarray(kwargs["target"]), (len(inputs),)), nt_samples)
        attributions = self.attribution_method.attribute(noisy, **kwargs)
        return attributions.reshape((len(inputs), nt_samples) + inputs.shape[1:]).mean(axis=1)
